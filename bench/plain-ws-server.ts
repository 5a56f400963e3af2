import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The baseline: the least a `ws` server can do for a session broadcast. Every text frame a
 * client sends goes, as received (no parsing, no new serialization), to every client of its
 * session (`?session=`), sender included. It says hello on connect so the load generator knows
 * when a client is in, like the relay's `connect`. Listens on WS_HOST:WS_PORT (0: any free
 * port) and prints `{"listening":PORT}` on stdout.
 */
const sessions = new Map<string, Set<WebSocket>>();
const HELLO = '{"event_type":"connect","payload":{}}';

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: false });

wss.on('connection', (socket, request) => {
  const session = new URL(request.url ?? '/', 'http://x').searchParams.get('session') ?? '';
  let members = sessions.get(session);
  if (!members) sessions.set(session, (members = new Set()));
  const peers = members;
  peers.add(socket);
  socket.on('message', (data: Buffer, isBinary) => {
    for (const peer of peers) if (peer.readyState === 1) peer.send(data, { binary: isBinary });
  });
  socket.on('error', () => socket.terminate());
  socket.on('close', () => {
    peers.delete(socket);
    if (peers.size === 0 && sessions.get(session) === peers) sessions.delete(session);
  });
  socket.send(HELLO);
});

server.listen(Number(process.env.WS_PORT ?? 0), process.env.WS_HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as AddressInfo).port })}\n`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
