import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Role } from '../../protocol';
import { mintOperatorToken, mintPersonalToken, mintToken } from '../auth/tokens';
import { resolveAuthSecret } from '../config/auth-secret';
import { ConfigError, loadConfig, settingDescriptions } from '../config/config';
import { createLogger } from '../log';
import { startRelay } from '../relay';
import { RedisConnections } from '../redis/redis-connection';
import { RedisStreamStore } from '../streams/redis-stream-store';
import { RedisWindowStore } from '../streams/redis-window-store';
import { DEFAULT_GROUP, StreamProcessor } from '../streams/stream-processor';
import { deploy, deployUsage } from './deploy';

const usage = `Usage: relay <command> [options]

Commands:
  serve                 start the relay (configured by environment variables, below)
  worker                run only the data processor: a consumer of the metrics, feedback and
                        model-performance streams (needs REDIS_URL; relays with
                        STREAM_PROCESSOR=false leave the processing to workers)
  token                 print a signed token (JWT) for a participant
    --user ID           user id (required)
    --session ID        session the token may join (repeat for several; required)
    --role ROLE         host | editor | viewer (default editor)
    --name NAME         display name (default: the user id)
    --ttl DURATION      lifetime: seconds or 30m, 1h, 7d (default 1h)
    --admin             may notify every session through the REST API
    --personal          a personal token instead: who you are, across sessions; it creates
                        sessions (POST /api/sessions, the extension's "Start Session") and
                        needs no --session or --role (default ttl 30d)
    --operator          an operator token instead: reads GET /api/metrics and /ws/stats,
                        and subscribes to the live metrics over /ws (operator.subscribe);
                        joins no session, needs no --session or --role (default ttl 1h)
${deployUsage}  help                  this text

Settings (environment variables, or a JSON file named by RELAY_CONFIG):
${Object.entries(settingDescriptions)
  .map(([name, text]) => `  ${name.padEnd(38)}${text}`)
  .join('\n')}
`;

async function serve(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const { secret, generatedAt } = resolveAuthSecret(config);
  if (generatedAt) {
    log.warn(
      { secret_file: generatedAt },
      'AUTH_SECRET is not set: using a generated development secret. Mint tokens with `node dist/relay.js token --user alice --session ' +
        's1`; set AUTH_SECRET (and NODE_ENV=production) for real use',
    );
  }
  const relay = await startRelay({ config, secret, logger: log });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'signal received, draining');
    // A hard stop in case draining itself hangs.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5000).unref();
    relay.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** `relay worker`: one more consumer of the streams' group, nothing else (no HTTP, no WebSocket). */
async function worker(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (!config.redisUrl && !config.redisClusterNodes)
    throw new ConfigError('relay worker: REDIS_URL or REDIS_CLUSTER_NODES is required (the streams it processes are in Redis)');
  const consumer = config.relayId ?? `worker-${randomUUID().slice(0, 8)}`;
  let redis: RedisConnections;
  try {
    redis = (await RedisConnections.configured(config, { name: consumer, log }))!;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const streams = new RedisStreamStore(redis);
  const windows = new RedisWindowStore(redis, { ttlMs: 2 * config.streams.windowMs + 60_000 });
  const processor = new StreamProcessor(streams, windows, { group: DEFAULT_GROUP, consumer, claimIdleMs: config.streams.claimIdleMs, log });
  await processor.ensureGroups();
  processor.start(config.streams.pollIntervalMs);
  log.info({ consumer, group: DEFAULT_GROUP }, 'stream worker running');
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'signal received, stopping the worker');
    void processor
      .stop()
      .then(() => Promise.all([streams.close(), windows.close()]))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function token(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' },
      session: { type: 'string', multiple: true },
      role: { type: 'string', default: 'editor' },
      name: { type: 'string' },
      ttl: { type: 'string' },
      admin: { type: 'boolean', default: false },
      personal: { type: 'boolean', default: false },
      operator: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.user) throw new UsageError('token: --user is required');
  const ttlText = values.ttl ?? (values.personal ? '30d' : '1h');
  if (!/^\d+$|^\d+(\.\d+)?\s*(ms|s|m|h|d|w|y)$/.test(ttlText)) {
    throw new UsageError(`token: --ttl must be seconds or a duration like 30m, 1h, 7d (got "${ttlText}")`);
  }
  const ttl = /^\d+$/.test(ttlText) ? Number(ttlText) : ttlText;
  if (values.operator) {
    if (values.personal || values.session?.length || values.admin)
      throw new UsageError('token: --operator takes no --personal, --session or --admin');
    const { secret } = resolveAuthSecret(loadConfig());
    process.stdout.write(`${mintOperatorToken(secret, { user: values.user, ttl, ...(values.name && { name: values.name }) })}\n`);
    return;
  }
  if (values.personal) {
    if (values.session?.length || values.admin) throw new UsageError('token: --personal takes no --session or --admin');
    const { secret } = resolveAuthSecret(loadConfig());
    process.stdout.write(`${mintPersonalToken(secret, { user: values.user, ttl, ...(values.name && { name: values.name }) })}\n`);
    return;
  }
  if (!values.session?.length) throw new UsageError('token: --session is required');
  const role = Role.safeParse(values.role);
  if (!role.success) throw new UsageError(`token: --role must be host, editor or viewer (got "${values.role}")`);
  const { secret } = resolveAuthSecret(loadConfig());
  const jwt = mintToken(secret, {
    user: values.user,
    sessions: values.session,
    role: role.data,
    ttl,
    ...(values.name && { name: values.name }),
    admin: values.admin,
  });
  process.stdout.write(`${jwt}\n`);
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
    case undefined:
      return serve();
    case 'token':
      return token(rest);
    case 'worker':
      return worker();
    case 'deploy':
      return deploy(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof UsageError) {
    process.stderr.write(`relay: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write('Run `relay help` for usage.\n');
    process.exit(2);
  }
  // parseArgs throws TypeErrors with a `code` for unknown or malformed options.
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`relay: ${error.message}\nRun \`relay help\` for usage.\n`);
    process.exit(2);
  }
  if (error instanceof Error && 'issues' in error) {
    process.stderr.write(`relay: invalid value: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`relay: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
