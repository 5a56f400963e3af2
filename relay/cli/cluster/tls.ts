/** A self-signed certificate for nginx's TLS listener when the operator has not supplied one. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DeployError } from './deploy-error';
import { findBinary } from './processes';

export interface CertificatePaths {
  certificate: string;
  key: string;
}

/** The names docker/nginx.conf expects in its certificate dir. */
export function certificatePaths(dir: string): CertificatePaths {
  return { certificate: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
}

/**
 * `dir/tls.crt` and `dir/tls.key`: left alone if both exist (the operator's own), otherwise a
 * self-signed pair for localhost and 127.0.0.1 (browsers will warn; fine for trying it out).
 */
export function ensureCertificate(dir: string, days = 365): CertificatePaths & { generated: boolean } {
  const paths = certificatePaths(dir);
  if (existsSync(paths.certificate) && existsSync(paths.key)) return { ...paths, generated: false };
  const openssl = findBinary(
    'openssl',
    process.env.OPENSSL_BIN,
    `install Debian's openssl package, or put your own tls.crt and tls.key in ${dir}`,
  );
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const result = spawnSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      String(days),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      paths.key,
      '-out',
      paths.certificate,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (result.status !== 0)
    throw new DeployError(
      `openssl could not create a self-signed certificate: ${(result.stderr || result.error?.message || '').trim().split('\n').at(-1)}`,
    );
  return { ...paths, generated: true };
}
