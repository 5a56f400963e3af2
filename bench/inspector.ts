import WebSocket from 'ws';

/**
 * Just enough of the V8 inspector protocol to ask a server started with `--inspect` for a full
 * garbage collection and for its `process.memoryUsage()`: idle-connection memory is then
 * measured on live objects, not on whatever garbage the connection storm left behind.
 */
export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message.error ? new Error(message.error.message) : message.result);
      this.pending.delete(message.id);
    });
  }

  static open(url: string, timeoutMs = 5000): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`inspector: no connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(new InspectorSession(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  call(method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector: ${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        if (result instanceof Error) reject(result);
        else resolve(result);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async collectGarbage(): Promise<void> {
    await this.call('HeapProfiler.collectGarbage');
  }

  /** `process.memoryUsage()` of the inspected process. */
  async memoryUsage(): Promise<NodeJS.MemoryUsage> {
    const answer = (await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result: { value: string };
    };
    return JSON.parse(answer.result.value) as NodeJS.MemoryUsage;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** The inspector's URL in a line of a `--inspect` process's stderr. */
export function inspectorUrl(line: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
}
