import type { Redis } from 'ioredis';
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
  // A Cluster's `sendCommand` (which routes to the slot's master) takes the same first argument.
  const client = redis as Pick<Redis, 'sendCommand'>;
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    const started = performance.now();
    const result = send(command, stream);
    const name = COMMANDS.has(command.name) ? command.name : OTHER;
    command.promise.then(() => histogram.observe({ command: name }, (performance.now() - started) / 1000), ignore);
    return result;
  };
}
