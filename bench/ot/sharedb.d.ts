/** The little of ShareDB's untyped API the OT bench uses (sharedb 7, @teamwork/websocket-json-stream 2). */

declare module 'sharedb' {
  import type { Duplex } from 'node:stream';

  class ShareDB {
    constructor(options?: object);
    listen(stream: Duplex): unknown;
    close(callback?: () => void): void;
    static types: { register(type: object): void };
  }
  export = ShareDB;
}

declare module 'sharedb/lib/client' {
  /** An ottypes op; for `text-unicode`: retains (numbers), inserts (strings), deletes (`{ d }`). */
  export type Op = Array<number | string | { d: string | number }>;
  type Callback = (error?: Error) => void;

  export interface Doc {
    readonly data: unknown;
    readonly version: number | null;
    readonly type: { name: string } | null;
    create(data: unknown, type: string, callback: Callback): void;
    subscribe(callback: Callback): void;
    submitOp(op: Op, options: object | undefined, callback: Callback): void;
    /** `source` is false for another client's op. */
    on(event: 'op', listener: (op: Op, source: unknown) => void): void;
    on(event: 'error', listener: (error: Error) => void): void;
  }

  /** Takes a browser-style WebSocket (`ws`'s qualifies). */
  export class Connection {
    constructor(socket: object);
    get(collection: string, id: string): Doc;
    close(): void;
  }

  export const types: { register(type: object): void };
}

declare module '@teamwork/websocket-json-stream' {
  import type { Duplex } from 'node:stream';
  import type WebSocket from 'ws';

  class WebSocketJSONStream extends Duplex {
    constructor(socket: WebSocket);
  }
  export = WebSocketJSONStream;
}
