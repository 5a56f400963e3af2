/** One-shot checks of what the cluster runs: an HTTP GET, a Redis PING, a port to listen on. */
import { once } from 'node:events';
import { get } from 'node:http';
import { createConnection, createServer } from 'node:net';

export interface Probe {
  status: number;
  body: string;
}

/** GET `url`; rejects on a connection error or after `timeoutMs`. */
export function httpGet(url: string, timeoutMs = 2000): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.once('error', reject);
    });
    request.once('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.once('error', reject);
  });
}

/** The status of GET `url`, or 0 when nothing answers. */
export async function httpStatus(url: string, timeoutMs = 2000): Promise<number> {
  return httpGet(url, timeoutMs).then(
    (probe) => probe.status,
    () => 0,
  );
}

/** Whether a Redis server answers PING on 127.0.0.1:`port`. */
export function redisPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

/** A loopback port the kernel just handed out: free unless someone takes it meanwhile. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Undefined if `host:port` can be listened on, else why not (`EADDRINUSE`, `EACCES`, ...). */
export async function portProblem(host: string, port: number): Promise<string | undefined> {
  const server = createServer();
  try {
    server.listen(port, host);
    await once(server, 'listening');
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'error';
  } finally {
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  }
}
