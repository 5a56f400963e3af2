import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { verifyToken } from '../../relay/auth/tokens';

/**
 * The scale-out baseline: what a team would assemble itself. Socket.IO with
 * `@socket.io/redis-adapter` (classic pub/sub, ioredis) on REDIS_URL, several of these processes
 * on one Redis, one room per session. A `chat.message` event is broadcast to its session's room
 * (sender included, across servers through the adapter) as the relay's envelope, built the same
 * way (message id, display name, ISO timestamp), so both deliver the same bytes of content.
 *
 * The token is the relay's (verified with the same code: HS256, the session must be in it), in the
 * handshake query with the session. After joining the room it emits `hello`: the load generator's
 * sign that the connection is in, like the relay's `connect`. Websocket transport only. Listens
 * on WS_HOST:WS_PORT (0: any free port) and prints `{"listening":PORT}` on stdout.
 */

const secret = process.env.AUTH_SECRET ?? '';
const redisUrl = process.env.REDIS_URL;
if (!redisUrl || secret.length < 16) {
  process.stderr.write('socketio-server: REDIS_URL and AUTH_SECRET are required\n');
  process.exit(2);
}

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const serverId = `sio-${process.pid.toString(36)}`;
let messageCounter = 0;

const http = createServer((_request, response) => response.writeHead(404).end());
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  adapter: createAdapter(pub, sub),
});

interface Principal {
  userId: string;
  displayName: string;
  session: string;
}

io.use((socket, next) => {
  const { token, session } = socket.handshake.query;
  try {
    const principal = verifyToken(secret, typeof token === 'string' ? token : undefined);
    if (typeof session !== 'string' || !principal.sessions.includes(session)) throw new Error('session not in token');
    socket.data = { userId: principal.userId, displayName: principal.displayName, session } satisfies Principal;
    next();
  } catch (error) {
    next(error instanceof Error ? error : new Error(String(error)));
  }
});

io.on('connection', (socket) => {
  const { userId, displayName, session } = socket.data as Principal;
  // In-memory room membership: join() returns nothing to wait for with this adapter.
  void socket.join(session);
  socket.on('chat.message', (payload: { content?: unknown }) => {
    if (typeof payload?.content !== 'string') return;
    io.to(session).emit('chat.message', {
      event_type: 'chat.message',
      payload: {
        content: payload.content,
        message_id: `${serverId}-${Date.now().toString(36)}-${(++messageCounter).toString(36)}`,
        display_name: displayName,
      },
      timestamp: new Date().toISOString(),
      session_id: session,
      user_id: userId,
    });
  });
  socket.emit('hello');
});

http.listen(Number(process.env.WS_PORT ?? 0), process.env.WS_HOST ?? '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (http.address() as AddressInfo).port })}\n`);
});

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
