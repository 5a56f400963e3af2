import type { Command } from 'ioredis';
import type { RedisClient } from '../redis/redis-connection';
import type { Histogram } from 'prom-client';
import { OTHER } from './labels';

/**
 * The commands the relay's stores send (scripts run as EVALSHA, EVAL when Redis lacks them): the
 * `command` label's values; any other is `other`.
 */
const COMMANDS = new Set([
  'evalsha',
  'eval',
  'publish',
  'spublish',
  'xadd',
  'xrange',
  'xrevrange',
  'xread',
  'xreadgroup',
  'xack',
  'xautoclaim',
  'xlen',
  'xtrim',
  'get',
  'set',
  'del',
  'exists',
  'expire',
  'pexpire',
  'hget',
  'hset',
  'hmget',
  'hgetall',
  'hdel',
  'sadd',
  'srem',
  'smembers',
  'zadd',
  'zrem',
  'zrange',
  'multi',
  'exec',
  'ping',
  'script',
]);

const ignore = () => undefined;

/**
 * Times every command of one connection from `sendCommand` to its reply (failed commands are not
 * timed: an outage shows in `tandem_redis_up`, and a rejected command took no time at Redis).
 * One clock read and one `then` per command; the connection is otherwise untouched.
 */
export function timeRedisCommands(redis: RedisClient, histogram: Histogram<'command'>): void {
  // A Cluster's `sendCommand` routes to the slot's master: the same command first, other arguments
  // after it (passed on as they are), and it calls itself again for a redirection (timed once).
  const client = redis as unknown as { sendCommand: (command: Command, ...rest: unknown[]) => unknown };
  const send = client.sendCommand.bind(client);
  const timed = new WeakSet<Command>();
  client.sendCommand = (command, ...rest) => {
    const result = send(command, ...rest);
    if (timed.has(command)) return result;
    timed.add(command);
    const started = performance.now();
    const name = COMMANDS.has(command.name) ? command.name : OTHER;
    command.promise.then(() => histogram.observe({ command: name }, (performance.now() - started) / 1000), ignore);
    return result;
  };
}
