import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../relay/config/config';
import { configError } from '../../support/config-error';
import { makeTestCertificates, type TestCertificates } from '../../support/test-certificates';

// Needs openssl: real PEM files (a CA, a client certificate and its key), made in a temp dir.
describe('TLS to Redis settings (REDIS_TLS_*_FILE, REDIS_CLUSTER_TLS)', () => {
  let pki: TestCertificates;
  let other: TestCertificates;
  const rediss = 'rediss://redis.example:6380';
  const cluster = { REDIS_CLUSTER_NODES: 'redis-1:6379,redis-2:6379', REDIS_CLUSTER_TLS: 'true' };

  before(async () => {
    [pki, other] = await Promise.all([makeTestCertificates(), makeTestCertificates()]);
  });
  after(() => {
    pki?.dispose();
    other?.dispose();
  });

  it('reads the files once into the config: the CA for a rediss:// URL, CA and client certificate for a TLS cluster', () => {
    const one = loadConfig({ REDIS_URL: rediss, REDIS_TLS_CA_FILE: pki.caFile });
    assert.deepEqual(one.redisTls, { ca: readFileSync(pki.caFile, 'utf8') });
    const clustered = loadConfig({
      ...cluster,
      REDIS_TLS_CA_FILE: pki.caFile,
      REDIS_TLS_CERT_FILE: pki.clientCertFile,
      REDIS_TLS_KEY_FILE: pki.clientKeyFile,
    });
    assert.deepEqual(clustered.redisTls, {
      ca: readFileSync(pki.caFile, 'utf8'),
      cert: readFileSync(pki.clientCertFile, 'utf8'),
      key: readFileSync(pki.clientKeyFile, 'utf8'),
    });
  });

  it('TLS without files trusts the system’s CAs; no TLS, no TLS options', () => {
    assert.deepEqual(loadConfig({ REDIS_URL: rediss }).redisTls, {});
    assert.deepEqual(loadConfig(cluster).redisTls, {});
    assert.equal(loadConfig({ REDIS_URL: 'redis://localhost:6379' }).redisTls, undefined);
    assert.equal(loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:6379' }).redisTls, undefined);
    assert.equal(loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:6379', REDIS_CLUSTER_TLS: 'false' }).redisTls, undefined);
  });

  it('refuses the files where no TLS is in use, naming them', () => {
    const notTls = /is for TLS to Redis: a rediss:\/\/ REDIS_URL, or REDIS_CLUSTER_TLS=true with REDIS_CLUSTER_NODES/;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ REDIS_TLS_CA_FILE: pki.caFile }, /REDIS_TLS_CA_FILE is for TLS to Redis/],
      [{ REDIS_URL: 'redis://localhost:6379', REDIS_TLS_CA_FILE: pki.caFile }, notTls],
      [{ REDIS_CLUSTER_NODES: 'redis-1:6379', REDIS_TLS_CA_FILE: pki.caFile }, notTls],
      [
        { REDIS_URL: 'redis://localhost:6379', REDIS_TLS_CERT_FILE: pki.clientCertFile, REDIS_TLS_KEY_FILE: pki.clientKeyFile },
        /REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE are for TLS to Redis/,
      ],
      [{ REDIS_CLUSTER_TLS: 'true' }, /REDIS_CLUSTER_TLS is for REDIS_CLUSTER_NODES \(one Redis takes TLS from a rediss:\/\/ REDIS_URL\)/],
      [{ REDIS_URL: rediss, REDIS_CLUSTER_TLS: 'true' }, /REDIS_CLUSTER_TLS is for REDIS_CLUSTER_NODES/],
      [{ ...cluster, REDIS_CLUSTER_TLS: 'yes' }, /REDIS_CLUSTER_TLS must be true or false/],
    ];
    for (const [env, expected] of cases) assert.match(configError(env), expected, JSON.stringify(env));
  });

  it('wants a client certificate and its key together', () => {
    const together = /REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together \(a client certificate and its key\)/;
    assert.match(configError({ ...cluster, REDIS_TLS_CERT_FILE: pki.clientCertFile }), together);
    assert.match(configError({ REDIS_URL: rediss, REDIS_TLS_KEY_FILE: pki.clientKeyFile }), together);
  });

  it('a missing, unreadable or wrong file is one line naming the setting and the path, never what the file holds', () => {
    const notPem = join(pki.dir, 'notes.txt');
    writeFileSync(notPem, 'not a certificate\n');
    const key = readFileSync(pki.clientKeyFile, 'utf8');
    const cases: Array<[Record<string, string>, string]> = [
      [{ REDIS_TLS_CA_FILE: join(pki.dir, 'missing.crt') }, `REDIS_TLS_CA_FILE: cannot read ${join(pki.dir, 'missing.crt')} (ENOENT)`],
      [{ REDIS_TLS_CA_FILE: pki.dir }, `REDIS_TLS_CA_FILE: cannot read ${pki.dir} (EISDIR)`],
      [{ REDIS_TLS_CA_FILE: notPem }, `REDIS_TLS_CA_FILE: ${notPem} is not a PEM certificate file (-----BEGIN CERTIFICATE-----)`],
      // A key given for a certificate: refused, and the key is not shown.
      [
        { REDIS_TLS_CA_FILE: pki.clientKeyFile },
        `REDIS_TLS_CA_FILE: ${pki.clientKeyFile} is not a PEM certificate file (-----BEGIN CERTIFICATE-----)`,
      ],
      [
        { REDIS_TLS_CERT_FILE: pki.clientCertFile, REDIS_TLS_KEY_FILE: pki.clientCertFile },
        `REDIS_TLS_KEY_FILE: ${pki.clientCertFile} is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`,
      ],
      [
        { REDIS_TLS_CERT_FILE: pki.clientCertFile, REDIS_TLS_KEY_FILE: other.clientKeyFile },
        `REDIS_TLS_KEY_FILE: ${other.clientKeyFile} is not the key of the certificate in REDIS_TLS_CERT_FILE`,
      ],
    ];
    for (const [files, expected] of cases) {
      const message = configError({ REDIS_URL: rediss, ...files });
      assert.equal(message, `Invalid configuration: ${expected}`);
      assert.ok(!message.includes('PRIVATE KEY-----\n') && !message.includes(key.split('\n')[1]!), 'no key material');
    }
  });
});
