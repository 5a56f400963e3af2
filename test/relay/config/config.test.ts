import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveAuthSecret } from '../../../relay/config/auth-secret';
import { loadConfig } from '../../../relay/config/config';
import { configError } from '../../support/config-error';

const tempDir = () => mkdtempSync(join(tmpdir(), 'tandem-config-'));

describe('configuration', () => {
  it('has working defaults: port 8001 on loopback, 64 KiB frames, 1 MiB outbound buffer', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8001);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.limits.maxFrameBytes, 65536);
    assert.equal(config.limits.maxBufferedBytes, 1048576);
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.production, false);
    assert.equal(config.logLevel, 'info');
  });

  it('reads the documented variables and the limits from the environment', () => {
    const config = loadConfig({
      WS_HOST: '0.0.0.0',
      WS_PORT: '9000',
      LOG_LEVEL: 'WARNING',
      WS_MAX_FRAME_BYTES: '2048',
      WS_MAX_MESSAGES_PER_SECOND: '10',
      CORS_ORIGINS: 'https://a.test, http://b.test:8080',
      TRUST_PROXY: 'true',
    });
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 9000);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.limits.maxFrameBytes, 2048);
    assert.equal(config.limits.maxMessagesPerSecond, 10);
    assert.deepEqual(config.corsOrigins, ['https://a.test', 'http://b.test:8080']);
    assert.equal(config.trustProxy, true);
  });

  it('reads the hardening settings (issue 11): defaults, values, and one line for a bad one', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.maxAuthFailuresPerIpPerMinute, 30);
    assert.deepEqual(defaults.allowedOrigins, []);
    assert.deepEqual(defaults.allowedHosts, []);
    assert.deepEqual(defaults.api, { maxRequestsPerIpPerMinute: 60, maxRequestsPerUserPerMinute: 30 });
    assert.equal(defaults.httpRequestTimeoutMs, 10_000);
    assert.equal(defaults.joinApprovalTimeoutMs, 120_000);
    const config = loadConfig({
      WS_MAX_AUTH_FAILURES_PER_IP_PER_MINUTE: '5',
      ALLOWED_ORIGINS: 'https://app.test',
      ALLOWED_HOSTS: 'Relay.Test, relay.test:8443 ,[::1]:8001',
      API_MAX_REQUESTS_PER_IP_PER_MINUTE: '7',
      API_MAX_REQUESTS_PER_USER_PER_MINUTE: '3',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      JOIN_APPROVAL_TIMEOUT_MS: '5000',
    });
    assert.equal(config.maxAuthFailuresPerIpPerMinute, 5);
    assert.deepEqual(config.allowedOrigins, ['https://app.test']);
    assert.deepEqual(config.allowedHosts, ['relay.test', 'relay.test:8443', '[::1]:8001']);
    assert.deepEqual(config.api, { maxRequestsPerIpPerMinute: 7, maxRequestsPerUserPerMinute: 3 });
    assert.equal(config.httpRequestTimeoutMs, 2000);
    assert.equal(config.joinApprovalTimeoutMs, 5000);
    assert.match(configError({ ALLOWED_HOSTS: 'https://relay.test' }), /ALLOWED_HOSTS must be host names/);
    // A secret that fails its check is named, never shown.
    const tooLong = 'p'.repeat(5000);
    const refused = configError({ REDIS_CLUSTER_NODES: 'r1:6379', REDIS_CLUSTER_PASSWORD: tooLong });
    assert.match(refused, /REDIS_CLUSTER_PASSWORD/);
    assert.ok(!refused.includes('ppppp'), refused);
    assert.match(configError({ ALLOWED_ORIGINS: 'relay.test' }), /ALLOWED_ORIGINS must be "\*" or origins/);
    assert.match(configError({ HTTP_REQUEST_TIMEOUT_MS: '10' }), /HTTP_REQUEST_TIMEOUT_MS must be an integer between 1000 and 600000/);
    assert.match(configError({ API_MAX_REQUESTS_PER_IP_PER_MINUTE: '0' }), /API_MAX_REQUESTS_PER_IP_PER_MINUTE must be an integer/);
  });

  it('maps every documented log level', () => {
    const levels = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'fatal', silent: 'silent' };
    for (const [given, expected] of Object.entries(levels)) assert.equal(loadConfig({ LOG_LEVEL: given }).logLevel, expected);
  });

  it('reads REDIS_CLUSTER_NODES as host:port pairs (IPv6 in brackets)', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: ' redis-1:6379, 10.0.0.2:7000,[::1]:7001' });
    assert.deepEqual(config.redisClusterNodes, [
      { host: 'redis-1', port: 6379 },
      { host: '10.0.0.2', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
    assert.equal(config.redisUrl, undefined);
  });

  it('refuses each bad value with one line that names it', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ WS_PORT: 'eighty' }, /WS_PORT must be an integer between 0 and 65535 \(got "eighty"\)/],
      [{ WS_PORT: '70000' }, /WS_PORT/],
      [{ WS_PORT: '80.5' }, /WS_PORT/],
      [{ LOG_LEVEL: 'LOUD' }, /LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL/],
      [{ REDIS_URL: 'http://localhost' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
      [{ REDIS_CLUSTER_NODES: 'redis-1' }, /REDIS_CLUSTER_NODES must be a comma-separated list of host:port/],
      [{ REDIS_CLUSTER_NODES: 'redis-1:6379,,redis-2:6379' }, /REDIS_CLUSTER_NODES/],
      [{ REDIS_CLUSTER_NODES: 'redis-1:99999' }, /REDIS_CLUSTER_NODES has a port out of range/],
      [
        { REDIS_URL: 'redis://localhost:6379', REDIS_CLUSTER_NODES: 'redis-1:6379' },
        /set REDIS_URL \(one Redis\) or REDIS_CLUSTER_NODES \(Redis Cluster\), not both/,
      ],
      [{ WS_MAX_FRAME_BYTES: '0' }, /WS_MAX_FRAME_BYTES/],
      [{ WS_MAX_BUFFERED_BYTES: '-5' }, /WS_MAX_BUFFERED_BYTES/],
      [{ WS_HEARTBEAT_INTERVAL_MS: 'soon' }, /WS_HEARTBEAT_INTERVAL_MS/],
      [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY must be true or false/],
      [{ CORS_ORIGINS: 'not a url' }, /CORS_ORIGINS/],
      [{ RELAY_ID: 'has spaces' }, /RELAY_ID/],
      [{ EDIT_MAX_TRANSFORM_COST: '10' }, /EDIT_MAX_TRANSFORM_COST/],
      [{ DOCUMENT_MAX_PER_SESSION: '0' }, /DOCUMENT_MAX_PER_SESSION/],
      [{ SESSION_LOG_SIZE: '5' }, /SESSION_LOG_SIZE must be an integer between 10 and 1000000 \(got "5"\)/],
      [{ REDIS_CLUSTER_PASSWORD: 'pw' }, /REDIS_CLUSTER_USERNAME and REDIS_CLUSTER_PASSWORD are for REDIS_CLUSTER_NODES/],
      [{ REDIS_CLUSTER_NODES: 'r1:6379', REDIS_CLUSTER_USERNAME: 'relay' }, /REDIS_CLUSTER_USERNAME needs REDIS_CLUSTER_PASSWORD/],
      // A document of the greatest length must fit in a connection's pending pieces.
      [
        { DOCUMENT_MAX_LENGTH: '1000000', DOCUMENT_MAX_PENDING_PIECE_BYTES: '1000000' },
        /DOCUMENT_MAX_PENDING_PIECE_BYTES must be at least 2 × DOCUMENT_MAX_LENGTH \+ 65536 \(2065536\)/,
      ],
    ];
    for (const [env, expected] of cases) assert.match(configError(env), expected);
  });

  it('derives the pending-piece bound from DOCUMENT_MAX_LENGTH unless set', () => {
    assert.equal(loadConfig({ DOCUMENT_MAX_LENGTH: '1000' }).documentMaxPendingPieceBytes, 2000 + 65_536);
    assert.equal(
      loadConfig({ DOCUMENT_MAX_LENGTH: '1000', DOCUMENT_MAX_PENDING_PIECE_BYTES: '100000' }).documentMaxPendingPieceBytes,
      100_000,
    );
  });

  it('never echoes a bad AUTH_SECRET back', () => {
    const message = configError({ AUTH_SECRET: 'short-secret' });
    assert.match(message, /AUTH_SECRET must be at least 16 characters/);
    assert.ok(!message.includes('short-secret'));
  });

  it('reads a JSON config file named by RELAY_CONFIG; the environment wins over it', () => {
    const file = join(tempDir(), 'relay.json');
    writeFileSync(file, JSON.stringify({ WS_PORT: 9100, WS_MAX_MESSAGES_PER_SECOND: 5, LOG_LEVEL: 'ERROR' }));
    const config = loadConfig({ RELAY_CONFIG: file, LOG_LEVEL: 'DEBUG' });
    assert.equal(config.port, 9100);
    assert.equal(config.limits.maxMessagesPerSecond, 5);
    assert.equal(config.logLevel, 'debug');
  });

  it('refuses a config file that is missing, not JSON, or has unknown settings', () => {
    const dir = tempDir();
    assert.match(configError({ RELAY_CONFIG: join(dir, 'nope.json') }), /RELAY_CONFIG: cannot read .*ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{ port: 1 ');
    assert.match(configError({ RELAY_CONFIG: join(dir, 'bad.json') }), /not valid JSON/);
    writeFileSync(join(dir, 'list.json'), '[1]');
    assert.match(configError({ RELAY_CONFIG: join(dir, 'list.json') }), /must hold a JSON object/);
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ WS_PROT: 1 }));
    assert.match(configError({ RELAY_CONFIG: join(dir, 'typo.json') }), /WS_PROT unknown setting/);
  });
});

describe('the auth secret', () => {
  it('uses AUTH_SECRET when set', () => {
    const secret = resolveAuthSecret(loadConfig({ AUTH_SECRET: 'a-long-enough-secret' }));
    assert.deepEqual(secret, { secret: 'a-long-enough-secret' });
  });

  it('is required in production', () => {
    assert.throws(() => resolveAuthSecret(loadConfig({ NODE_ENV: 'production', RELAY_STATE_DIR: tempDir() })), {
      name: 'ConfigError',
      message: /AUTH_SECRET is required when NODE_ENV=production/,
    });
  });

  it('is generated once in development, kept private, and reused by the next process', () => {
    const dir = join(tempDir(), 'state');
    const first = resolveAuthSecret(loadConfig({ RELAY_STATE_DIR: dir }));
    assert.ok(first.generatedAt, 'says it was generated');
    assert.ok(first.secret.length >= 32);
    assert.equal(statSync(first.generatedAt).mode & 0o777, 0o600);
    assert.equal(readFileSync(first.generatedAt, 'utf8').trim(), first.secret);
    const second = resolveAuthSecret(loadConfig({ RELAY_STATE_DIR: dir }));
    assert.equal(second.secret, first.secret);
  });

  it('says so clearly when the state directory cannot be written', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    assert.throws(() => resolveAuthSecret(loadConfig({ RELAY_STATE_DIR: join(file, 'sub') })), {
      name: 'ConfigError',
      message: /RELAY_STATE_DIR .* is not writable .*set AUTH_SECRET instead/,
    });
  });
});
