/**
 * A throwaway PKI for TLS tests, made with `openssl` in a temp dir: a CA, a server certificate it
 * signed (by default for IP:127.0.0.1 and DNS:localhost) and a client certificate (mutual TLS).
 * EC P-256 keys, so that making one takes a few tens of milliseconds.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = process.env.OPENSSL_BIN ?? 'openssl';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TestCertificateOptions {
  /** The server certificate's subjectAltName entries (default `IP:127.0.0.1`, `DNS:localhost`). */
  serverNames?: string[];
}

/** PEM files, each in `dir`. */
export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** Removes the dir (also done when the test process exits). */
  dispose(): void;
}

const live = new Set<string>();
process.once('exit', () => {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
});

export async function makeTestCertificates(options: TestCertificateOptions = {}): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-tls-'));
  live.add(dir);
  const file = (name: string) => join(dir, name);
  try {
    // The CA: self-signed, allowed to sign (stated here rather than left to the system's openssl.cnf).
    await openssl(dir, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=Tandem test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const serverNames = options.serverNames ?? ['IP:127.0.0.1', 'DNS:localhost'];
    // The server's certificate is also the client certificate of a node's cluster-bus and replication links (`tls-cluster`).
    await signed(dir, 'server', '/CN=tandem-test-redis', [
      `subjectAltName=${serverNames.join(',')}`,
      'extendedKeyUsage=serverAuth,clientAuth',
    ]);
    await signed(dir, 'client', '/CN=tandem-test-relay', ['extendedKeyUsage=clientAuth']);
  } catch (error) {
    remove(dir);
    throw error;
  }
  return {
    dir,
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    dispose: () => remove(dir),
  };
}

/** A key and a certificate for it signed by the CA in `dir`, with these X.509v3 extensions. */
async function signed(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  const file = (suffix: string) => join(dir, `${name}.${suffix}`);
  await openssl(dir, ['req', ...EC_KEY, '-keyout', file('key'), '-out', file('csr'), '-subj', subject]);
  writeFileSync(file('ext'), extensions.join('\n') + '\n');
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    file('csr'),
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    file('crt'),
    '-days',
    '2',
    '-extfile',
    file('ext'),
  ]);
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run(OPENSSL, args, { cwd: dir, timeout: 10_000 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${stderr?.trim() || (error as Error).message}`);
  }
}

function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}
