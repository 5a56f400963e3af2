import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocketJSONStream from '@teamwork/websocket-json-stream';
import { type as textUnicode } from 'ot-text-unicode';
import ShareDB from 'sharedb';
import { WebSocketServer } from 'ws';

/**
 * The OT bench's baseline: an in-memory ShareDB server (its default memory database and
 * pub/sub) with the `text-unicode` type, over `ws`. Listens on WS_HOST:WS_PORT (0: any free
 * port) and prints `{"listening":PORT}` on stdout, as the plain ws server does.
 */
ShareDB.types.register(textUnicode);
const backend = new ShareDB();

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
