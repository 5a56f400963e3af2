import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import WebSocketJSONStream from '@teamwork/websocket-json-stream';
import { type as textUnicode } from 'ot-text-unicode';
import ShareDB from 'sharedb';
import { WebSocketServer } from 'ws';

/**
 * The OT bench's baseline: an in-memory ShareDB server (its default memory database and
 * pub/sub) with the `text-unicode` type, over `ws`. Listens on WS_HOST:WS_PORT (0: any free
 * port) and prints `{"listening":PORT}` on stdout, as the plain ws server does.
 *
 * With SHAREDB_REDIS_URL, its pub/sub is `sharedb-redis-pubsub` on that Redis (how ShareDB is
 * scaled out: every op goes through Redis), and with SHAREDB_PG_URL its database is
 * `sharedb-postgres` on that database (what servers that scale out share): the baselines of the
 * scale-out bench's commits. Those packages are loaded from the project's node_modules when the
 * server starts (not bundled), so the in-memory baseline runs without them.
 */
ShareDB.types.register(textUnicode);
const redisUrl = process.env.SHAREDB_REDIS_URL;
const pgUrl = process.env.SHAREDB_PG_URL;
const backend = new ShareDB({
  ...(redisUrl && { pubsub: installed<(options: object) => object>('sharedb-redis-pubsub', 'SHAREDB_REDIS_URL')({ url: redisUrl }) }),
  // Commits not waiting for the disk: the closest PostgreSQL gets to the bench's Redis, which keeps nothing on disk.
  ...(pgUrl && {
    db: new (installed<new (options: object) => object>('sharedb-postgres', 'SHAREDB_PG_URL'))({
      connectionString: pgUrl,
      options: '-c synchronous_commit=off',
    }),
  }),
});

/** An adapter from the project's node_modules, loaded only when its variable asks for it. */
function installed<T>(name: string, variable: string): T {
  const load = createRequire(join(process.cwd(), 'package.json'));
  try {
    return load(name) as T;
  } catch {
    process.stderr.write(`${variable} is set but ${name} is not installed (npm install)\n`);
    process.exit(1);
  }
}

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('error', () => socket.terminate());
  backend.listen(new WebSocketJSONStream(socket));
});

server.listen(Number(process.env.WS_PORT ?? 0), process.env.WS_HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as AddressInfo).port })}\n`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
