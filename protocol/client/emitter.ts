/** Something to release: a listener, a timer, a connection. Returned by every `on...` method. */
export interface Disposable {
  dispose(): void;
}

/** Event name -> the arguments its listeners get. */
export type EventMap = Record<string, readonly unknown[]>;

type Listener<A extends readonly unknown[]> = (...args: A) => void;

/**
 * A tiny typed emitter: `protocol/` cannot use Node's EventEmitter (it runs in browsers too).
 * A throwing listener neither stops the others nor the caller (the client's state machine
 * emits from inside transport callbacks, and must finish its own bookkeeping): its error goes
 * to `onListenerError`, by default rethrown on a fresh stack so it still surfaces as uncaught.
 */
export class Emitter<M extends EventMap> {
  private readonly listeners = new Map<keyof M, Array<Listener<M[keyof M]>>>();

  constructor(private readonly onListenerError: (error: unknown) => void = rethrowLater) {}

  on<K extends keyof M>(event: K, listener: Listener<M[K]>): Disposable {
    // Wrapped so the same function can be registered twice and disposed once per registration.
    const entry: Listener<M[K]> = (...args) => listener(...args);
    // Copy-on-write: an emit in progress keeps iterating the array it started with, and the
    // hot path (one emit per inbound frame) never copies.
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), entry as Listener<M[keyof M]>]);
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        const rest = (this.listeners.get(event) ?? []).filter((l) => l !== entry);
        if (rest.length === 0) this.listeners.delete(event);
        else this.listeners.set(event, rest);
      },
    };
  }

  /** Whether anyone listens, so callers can skip building arguments nobody reads. */
  has(event: keyof M): boolean {
    return this.listeners.has(event);
  }

  emit<K extends keyof M>(event: K, ...args: M[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    // Listeners added or disposed during delivery take effect from the next emit.
    for (const listener of list) {
      try {
        (listener as Listener<M[K]>)(...args);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Drops every listener. */
  clear(): void {
    this.listeners.clear();
  }
}

function rethrowLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}
