import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The OT bench's floor: the least a `ws` server can do for shared editing. Every text frame an
 * editor sends goes, as received (no parsing, no OT, no validation, no ack), to the other
 * editors of its document (`?doc=`), never back to the sender. Listens on WS_HOST:WS_PORT (0: any
 * free port) and prints `{"listening":PORT}` on stdout, as the other baselines do.
 */
const documents = new Map<string, Set<WebSocket>>();

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: false });

wss.on('connection', (socket, request) => {
  const doc = new URL(request.url ?? '/', 'http://x').searchParams.get('doc') ?? '';
  let members = documents.get(doc);
  if (!members) documents.set(doc, (members = new Set()));
  const peers = members;
  peers.add(socket);
  socket.on('message', (data: Buffer, isBinary) => {
    for (const peer of peers) if (peer !== socket && peer.readyState === 1) peer.send(data, { binary: isBinary });
  });
  socket.on('error', () => socket.terminate());
  socket.on('close', () => {
    peers.delete(socket);
    if (peers.size === 0 && documents.get(doc) === peers) documents.delete(doc);
  });
});

server.listen(Number(process.env.WS_PORT ?? 0), process.env.WS_HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as AddressInfo).port })}\n`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
