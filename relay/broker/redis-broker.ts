import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { newEpoch } from '../epoch';
import type { Logger } from '../log';
import type { Broker, BrokerHealth, BrokerMessage, Disposable, Publication, PublishOptions, PublishResult, StreamPosition } from './broker';
import { type RedisClient, type RedisConnections, withTimeout } from '../redis/redis-connection';
import { defineScript } from '../redis/scripts';
import { decodePublications, decodeStreamEntry, encodeHeader, encodePublication, shardChannel } from './redis-publication';

/**
 * N relays on one Redis or on Redis Cluster: sharded pub/sub fans publications out, a bounded
 * stream per channel keeps the history, and a per-channel epoch says when that history was lost.
 * Pub/sub is at most once: a relay whose subscriber was down misses what was published meanwhile
 * (its clients resume from history).
 *
 * Per channel, all keys share the channel's hash tag (one slot per channel, or per group of
 * channels with the same `{…}` tag: `shardChannel`); `<base>` is `<prefix>{<channel>}`, or
 * `<prefix><channel>` for a channel with its own tag (the hub's `session:{<session>}`):
 * - `<base>:meta`   hash: `e` epoch, `s` offset of the last history publication
 * - `<base>:stream` stream: entry id `<offset>-0`, fields `h` header, `d` data, `k` key
 * - `<base>`        shard channel, payload `<offset>\n<header>\n<data>`
 * - `<base>:once`   hash: idempotency key -> `<epoch>:<offset>`, for the publications in the
 *                   history window (as the memory broker keeps them)
 * The header, the payload and the stream entry are `redis-publication.ts`'s format; the scripts
 * are relay/redis/lua/broker-*.lua.
 */

type StreamEntry = [id: string, fields: string[]];

const Options = z.object({
  /** Names this relay's liveness channel. */
  relayId: z.string().min(1),
  /** Publications kept per channel for resume. */
  historySize: z.int().min(1).default(1000),
  /** A channel's history and epoch go after this long without history activity (default 1 day). */
  historyTtlSeconds: z.int().min(1).default(86_400),
  /** Prefix of every key and channel, so that several deployments (or tests) can share one Redis. */
  prefix: z.string().default('tandem:'),
  /** How often the subscription is proven alive end to end; 0 turns the check off. */
  livenessIntervalMs: z.int().min(0).default(5_000),
  /** How long a liveness ping may take to come back before the subscriber is reconnected. */
  livenessTimeoutMs: z.int().min(1).default(3_000),
  /** How long `subscribe` waits for Redis to confirm (e.g. through an outage). */
  subscribeTimeoutMs: z.int().min(1).default(10_000),
  /** How long `health` waits for PING. */
  healthTimeoutMs: z.int().min(1).default(1_000),
});

export type RedisBrokerOptions = z.input<typeof Options> & { log?: Pick<Logger, 'info' | 'warn' | 'error'> };

type Listener = (publication: Publication) => void;

interface Channel {
  listeners: Set<Listener>;
  /** Settles once Redis confirmed the subscription. */
  subscribed: Promise<unknown>;
}

export class RedisBroker implements Broker {
  private readonly options: z.output<typeof Options>;
  private readonly log: RedisBrokerOptions['log'];
  private readonly command: RedisClient;
  private readonly subscriber: RedisClient;
  /** Keyed by shard channel name, which is what the subscriber's messages carry. */
  private readonly channels = new Map<string, Channel>();
  private readonly runPublish: (
    keys: readonly string[],
    args: readonly (string | number)[],
  ) => Promise<[number, string, number, StreamEntry[]]>;
  private readonly runHistory: (
    keys: readonly string[],
    args: readonly (string | number)[],
  ) => Promise<[number, string, number, StreamEntry[]]>;
  private readonly livenessChannel: string;
  private readonly livenessTimer: NodeJS.Timeout | undefined;
  private livenessWaiter: { token: string; arrived: () => void } | undefined;
  private livenessRunning = false;
  private livenessCounter = 0;
  private subscriberReadyAt = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnections,
    options: RedisBrokerOptions,
  ) {
    this.options = Options.parse(options);
    this.log = options.log;
    redis.acquire();
    this.command = redis.command;
    this.subscriber = redis.subscriber;
    this.runPublish = defineScript(this.command, 'tandemBrokerPublish');
    this.runHistory = defineScript(this.command, 'tandemBrokerHistory');
    this.subscriber.on('smessage', this.onMessage);
    this.subscriber.on('ready', this.onSubscriberReady);
    if (this.subscriber.status === 'ready') this.subscriberReadyAt = performance.now();
    // Its random part keeps any channel name from colliding with it.
    this.livenessChannel = `${this.options.prefix}liveness:{${this.options.relayId}:${randomUUID().slice(0, 8)}}`;
    if (this.options.livenessIntervalMs > 0) {
      this.subscriber
        .ssubscribe(this.livenessChannel)
        .catch((error: unknown) => this.log?.warn({ err: error }, 'redis liveness subscription failed'));
      this.livenessTimer = setInterval(() => void this.checkLiveness(), this.options.livenessIntervalMs).unref();
    }
  }

  async publish(channel: string, message: BrokerMessage, options?: PublishOptions): Promise<PublishResult> {
    // Kept nowhere and numbered by nothing (cursors, forwards, answers to one connection): one
    // SPUBLISH, in order with the scripts on this connection. The script would read the epoch (and
    // draw a candidate for it) only to return what nothing uses.
    if (!options?.history) {
      await this.command.spublish(...encodePublication(this.options.prefix, channel, message));
      return { offset: 0, epoch: '' };
    }
    const { header, data } = encodeHeader(message);
    const keys = this.keysOf(channel);
    const key = options.idempotencyKey;
    const [offset, epoch, duplicate, entries] = await this.runPublish(
      [keys.meta, keys.stream, `${keys.channel}:once`],
      [newEpoch(), this.options.historyTtlSeconds, keys.channel, header, data, this.options.historySize, key ?? ''],
    );
    if (duplicate !== 1) return { offset, epoch };
    const entry = entries[0];
    return { offset, epoch, duplicate: entry ? { original: decodeStreamEntry(entry[0], entry[1]) } : {} };
  }

  async subscribe(channel: string, listener: Listener): Promise<Disposable> {
    const name = this.keysOf(channel).channel;
    let entry = this.channels.get(name);
    if (!entry) {
      entry = { listeners: new Set(), subscribed: this.subscriber.ssubscribe(name) };
      this.channels.set(name, entry);
      // Awaited below by every subscriber of the channel; this keeps an unawaited rejection quiet.
      entry.subscribed.catch(() => undefined);
    }
    const joined = entry;
    joined.listeners.add(listener);
    const subscription = { dispose: () => this.unsubscribe(name, joined, listener) };
    try {
      await withTimeout(joined.subscribed, this.options.subscribeTimeoutMs, `subscribing to ${channel}`);
    } catch (error) {
      subscription.dispose();
      throw error;
    }
    return subscription;
  }

  async history(
    channel: string,
    since: StreamPosition,
    limit: number,
  ): Promise<{ publications: Publication[]; position: StreamPosition; recovered: boolean }> {
    const keys = this.keysOf(channel);
    // A position that is no offset at all cannot be resumed from (and must not reach XRANGE).
    const sinceOffset = Number.isSafeInteger(since.offset) && since.offset >= 0 ? since.offset : -1;
    const count = Math.max(0, Math.trunc(limit) || 0);
    const [top, epoch, recovered, entries] = await this.runHistory(
      [keys.meta, keys.stream],
      [newEpoch(), this.options.historyTtlSeconds, sinceOffset, since.epoch, Math.max(1, count), this.options.historySize],
    );
    const publications = entries.slice(0, count).map(([id, fields]) => decodeStreamEntry(id, fields));
    return { publications, position: { offset: top, epoch }, recovered: recovered === 1 };
  }

  /** PING's round trip; down as soon as either connection is down (fan-out needs both). */
  async health(): Promise<BrokerHealth> {
    if (this.closing) return { status: 'down', kind: 'redis', detail: 'closed' };
    for (const [role, client] of [
      ['command', this.command],
      ['subscriber', this.subscriber],
    ] as const) {
      if (client.status !== 'ready') return { status: 'down', kind: 'redis', detail: `${role} connection ${client.status}` };
    }
    const started = performance.now();
    try {
      await withTimeout(this.command.ping(), this.options.healthTimeoutMs, 'PING');
    } catch {
      return { status: 'down', kind: 'redis', detail: 'no answer to PING' };
    }
    return { status: 'up', kind: 'redis', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.livenessTimer);
    this.subscriber.off('smessage', this.onMessage);
    this.subscriber.off('ready', this.onSubscriberReady);
    const names = [...this.channels.keys()];
    if (this.livenessTimer) names.push(this.livenessChannel);
    this.channels.clear();
    // Matters only when the subscriber outlives this broker (shared); quick or skipped.
    if (this.subscriber.status === 'ready' && names.length > 0) {
      await withTimeout(Promise.all(names.map((name) => this.subscriber.sunsubscribe(name))), 1000, 'SUNSUBSCRIBE').catch(() => undefined);
    }
    await this.redis.release();
  }

  private unsubscribe(name: string, entry: Channel, listener: Listener): void {
    if (!entry.listeners.delete(listener) || entry.listeners.size > 0 || this.channels.get(name) !== entry) return;
    this.channels.delete(name);
    if (this.closing) return;
    // Queued behind the SSUBSCRIBE on the same connection, so the two never cross.
    this.subscriber.sunsubscribe(name).catch((error: unknown) => this.log?.warn({ err: error, channel: name }, 'redis unsubscribe failed'));
  }

  private readonly onMessage = (name: string, payload: string): void => {
    if (name === this.livenessChannel) {
      if (this.livenessWaiter?.token === payload) this.livenessWaiter.arrived();
      return;
    }
    const entry = this.channels.get(name);
    if (!entry) return;
    let publications: Publication[];
    try {
      publications = decodePublications(payload);
    } catch (error) {
      // Not from a RedisBroker (someone else publishing under the prefix): dropped, not thrown.
      this.log?.warn({ err: error, channel: name }, 'undecodable publication dropped');
      return;
    }
    for (const publication of publications) {
      for (const listener of entry.listeners) {
        // A throwing listener must not unwind into ioredis's reply parser, nor starve the others.
        try {
          listener(publication);
        } catch (error) {
          this.log?.error({ err: error, channel: name }, 'broker listener failed');
        }
      }
    }
  };

  private readonly onSubscriberReady = (): void => {
    this.subscriberReadyAt = performance.now();
  };

  /**
   * A subscription can die without the socket closing (a NAT or proxy that dropped the flow, a
   * half-open TCP connection): ioredis would wait forever. So a ping goes round the real path,
   * command connection -> Redis -> subscriber; when it does not come back, the subscriber is
   * reconnected, and ioredis re-subscribes every channel. A command connection that does not
   * answer is left to its own socket timeout; nothing is concluded about the subscriber then.
   */
  private async checkLiveness(): Promise<void> {
    if (this.livenessRunning || this.closing) return;
    if (this.command.status !== 'ready' || this.subscriber.status !== 'ready') return;
    // Right after a reconnect, the re-subscriptions may still be on their way.
    if (performance.now() - this.subscriberReadyAt < this.options.livenessTimeoutMs) return;
    this.livenessRunning = true;
    const token = `${++this.livenessCounter}`;
    const arrived = new Promise<void>((resolve) => (this.livenessWaiter = { token, arrived: resolve }));
    try {
      let receivers: unknown;
      try {
        receivers = await this.command.spublish(this.livenessChannel, token);
      } catch {
        return;
      }
      const alive =
        receivers !== 0 &&
        (await withTimeout(arrived, this.options.livenessTimeoutMs, 'liveness ping').then(
          () => true,
          () => false,
        ));
      if (alive || this.closing || this.subscriber.status !== 'ready') return;
      this.log?.warn({ relay: this.options.relayId }, 'redis subscription is not delivering; reconnecting the subscriber');
      this.subscriber.disconnect(true);
    } finally {
      this.livenessWaiter = undefined;
      this.livenessRunning = false;
    }
  }

  private keysOf(channel: string): { meta: string; stream: string; channel: string } {
    const base = shardChannel(this.options.prefix, channel);
    return { meta: `${base}:meta`, stream: `${base}:stream`, channel: base };
  }
}
