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
 * scaled out: every op goes through Redis), the baseline of the scale-out bench's commits. That
 * package is loaded from the project's node_modules when the server starts (not bundled), so the
 * in-memory baseline runs without it; NODE_PATH may name another folder that has it.
 */
ShareDB.types.register(textUnicode);
const redisUrl = process.env.SHAREDB_REDIS_URL;
const backend = new ShareDB(redisUrl ? { pubsub: redisPubSub(redisUrl) } : {});

function redisPubSub(url: string): object {
  const load = createRequire(join(process.cwd(), 'package.json'));
  let create: (options: object) => object;
  try {
    create = load('sharedb-redis-pubsub') as typeof create;
  } catch {
    process.stderr.write('SHAREDB_REDIS_URL is set but sharedb-redis-pubsub is not installed (npm install)\n');
    process.exit(1);
  }
  return create({ url });
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
