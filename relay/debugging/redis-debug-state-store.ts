import {
  type Breakpoint,
  type BreakpointChange,
  type BreakpointPayload,
  ProtocolError,
  type StoppedPayload,
  type StoppedState,
} from '../../protocol';
import type { RedisClient, RedisConnections } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';
import { type BreakpointLimits, breakpointJson, type DebugSnapshot, type DebugStateStore } from './debug-state-store';

/**
 * Each session's debugging state in Redis, shared by every relay. Two keys per session, in one
 * hash slot:
 *
 * - `<prefix>debug:{<session>}:bp`    hash: breakpoint id -> its JSON (`breakpointJson`)
 * - `<prefix>debug:{<session>}:meta`  hash: `rev` the last revision, `bytes` the UTF-8 bytes of all
 *   the breakpoints' JSON, `stopped` the stopped state's JSON (without its revision) and `srev` its
 *   revision, while the host is stopped
 *
 * Every change is one script (checked against the limits, applied, counted, the revision taken),
 * so two relays changing one breakpoint at once are put in one order. Both keys expire together
 * after the idle timeout (PEXPIRE on every change and `touch`); `delete` removes them.
 */

type Script<T> = (keys: readonly string[], args: readonly (string | number)[]) => Promise<T>;

export interface RedisDebugStateStoreOptions extends BreakpointLimits {
  idleTimeoutMs: number;
  /** Prefix of every key (default `tandem:`). */
  prefix?: string;
}

export class RedisDebugStateStore implements DebugStateStore {
  private readonly command: RedisClient;
  private readonly prefix: string;
  private readonly runApply: Script<[number, number?, string?]>;
  private readonly runSetStopped: Script<number>;
  private readonly runClearStopped: Script<number | null>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: RedisDebugStateStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'tandem:';
    redis.acquire();
    this.command = redis.command;
    this.runApply = defineScript(this.command, 'tandemDebugApply');
    this.runSetStopped = defineScript(this.command, 'tandemDebugSetStopped');
    this.runClearStopped = defineScript(this.command, 'tandemDebugClearStopped');
  }

  async applyBreakpoint(sessionId: string, { action, breakpoint }: BreakpointPayload): Promise<BreakpointChange | undefined> {
    const json = action === 'remove' ? '' : breakpointJson(breakpoint);
    const { maxBreakpoints, maxBreakpointBytes, idleTimeoutMs } = this.options;
    const [status, rev, applied] = await this.runApply(this.keys(sessionId), [
      action,
      breakpoint.id,
      json,
      maxBreakpoints,
      maxBreakpointBytes,
      idleTimeoutMs,
    ]);
    if (status === -1) throw new ProtocolError('TOO_MANY_BREAKPOINTS', undefined, 'payload.breakpoint');
    if (status === -2) throw new ProtocolError('BREAKPOINTS_TOO_LARGE', undefined, 'payload.breakpoint');
    if (status !== 1) return undefined;
    return { action, breakpoint: JSON.parse(applied!) as Breakpoint, rev: rev! };
  }

  async setStopped(sessionId: string, stopped: StoppedPayload): Promise<StoppedState> {
    const json = JSON.stringify(stopped);
    const rev = await this.runSetStopped(this.keys(sessionId), [json, this.options.idleTimeoutMs]);
    return { ...(JSON.parse(json) as StoppedPayload), rev };
  }

  async clearStopped(sessionId: string): Promise<number | undefined> {
    return (await this.runClearStopped(this.keys(sessionId), [this.options.idleTimeoutMs])) ?? undefined;
  }

  async read(sessionId: string): Promise<DebugSnapshot> {
    const [meta, bp] = this.keys(sessionId);
    const replies = await this.command.multi().hmget(meta!, 'rev', 'stopped', 'srev').hgetall(bp!).exec();
    if (!replies) throw new Error('the debugging state read was aborted');
    for (const [error] of replies) if (error) throw error;
    const [rev, stopped, srev] = replies[0]![1] as Array<string | null>;
    const breakpoints = Object.values(replies[1]![1] as Record<string, string>).map((json) => JSON.parse(json) as Breakpoint);
    return {
      rev: Number(rev ?? 0),
      breakpoints: breakpoints.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      stopped: stopped ? { ...(JSON.parse(stopped) as StoppedPayload), rev: Number(srev) } : null,
    };
  }

  async touch(sessionId: string): Promise<void> {
    const [meta, bp] = this.keys(sessionId);
    const ttl = this.options.idleTimeoutMs;
    await this.command.multi().pexpire(meta!, ttl).pexpire(bp!, ttl).exec();
  }

  async delete(sessionId: string): Promise<void> {
    await this.command.del(...this.keys(sessionId));
  }

  /** Lets go of Redis; the state stays there for the other relays. */
  close(): Promise<void> {
    return (this.closing ??= this.redis.release());
  }

  private keys(sessionId: string): [string, string] {
    const base = `${this.prefix}debug:{${sessionId}}`;
    return [`${base}:meta`, `${base}:bp`];
  }
}
