/**
 * TLS to Redis: which CAs the relay trusts (REDIS_TLS_CA_FILE) and its client certificate for
 * mutual TLS (REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE). The files are read once, at start-up, and
 * checked there, so a wrong path or file is one line then rather than a failed handshake later.
 * An error names the setting and the path, never what the file holds (a key is a secret).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error';

/** PEM text as node:tls takes it. No `ca`: the system's CAs; no `cert`/`key`: no client certificate. */
export interface RedisTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The settings TLS to Redis depends on (validated by the config schema). */
export interface RedisTlsSettings {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: readonly string[] | undefined;
  REDIS_CLUSTER_TLS: boolean;
  REDIS_TLS_CA_FILE?: string | undefined;
  REDIS_TLS_CERT_FILE?: string | undefined;
  REDIS_TLS_KEY_FILE?: string | undefined;
}

const FILE_SETTINGS = ['REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'] as const;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/**
 * The TLS options for Redis, or undefined when the relay talks plain TCP. TLS is on with a
 * rediss:// REDIS_URL, or with REDIS_CLUSTER_TLS=true (the cluster); the file settings without
 * it would be silently ignored, so they are refused, as is a certificate without its key.
 */
export function redisTlsOptions(settings: RedisTlsSettings): RedisTlsOptions | undefined {
  const cluster = settings.REDIS_CLUSTER_NODES !== undefined;
  if (settings.REDIS_CLUSTER_TLS && !cluster) {
    throw new ConfigError(
      'Invalid configuration: REDIS_CLUSTER_TLS is for REDIS_CLUSTER_NODES (one Redis takes TLS from a rediss:// REDIS_URL)',
    );
  }
  const tls = cluster ? settings.REDIS_CLUSTER_TLS : settings.REDIS_URL !== undefined && new URL(settings.REDIS_URL).protocol === 'rediss:';
  const given = FILE_SETTINGS.filter((name) => settings[name] !== undefined);
  if (!tls) {
    if (given.length === 0) return undefined;
    throw new ConfigError(
      `Invalid configuration: ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} for TLS to Redis: ` +
        'a rediss:// REDIS_URL, or REDIS_CLUSTER_TLS=true with REDIS_CLUSTER_NODES',
    );
  }
  const { REDIS_TLS_CA_FILE: caFile, REDIS_TLS_CERT_FILE: certFile, REDIS_TLS_KEY_FILE: keyFile } = settings;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      'Invalid configuration: REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together (a client certificate and its key)',
    );
  }
  const options: RedisTlsOptions = {};
  if (caFile !== undefined) options.ca = certificates('REDIS_TLS_CA_FILE', caFile)[0];
  if (certFile !== undefined && keyFile !== undefined) {
    const [pem, certificate] = certificates('REDIS_TLS_CERT_FILE', certFile);
    options.cert = pem;
    options.key = privateKey(keyFile, certificate);
  }
  return options;
}

/** The file's text and its first certificate; every CERTIFICATE block in it must parse. */
function certificates(setting: string, path: string): [string, X509Certificate] {
  const text = read(setting, path);
  const blocks = [...text.matchAll(PEM_BLOCK)].filter((block) => block[1] === 'CERTIFICATE');
  const parsed = blocks.flatMap((block) => {
    try {
      return [new X509Certificate(block[0])];
    } catch {
      return [];
    }
  });
  if (parsed.length === 0 || parsed.length < blocks.length) {
    throw new ConfigError(`Invalid configuration: ${setting}: ${path} is not a PEM certificate file (-----BEGIN CERTIFICATE-----)`);
  }
  return [text, parsed[0]!];
}

/** The key file's text, checked to be an unencrypted private key that belongs to `certificate`. */
function privateKey(path: string, certificate: X509Certificate): string {
  const text = read('REDIS_TLS_KEY_FILE', path);
  let key;
  try {
    key = createPrivateKey(text);
  } catch {
    throw new ConfigError(
      `Invalid configuration: REDIS_TLS_KEY_FILE: ${path} is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new ConfigError(`Invalid configuration: REDIS_TLS_KEY_FILE: ${path} is not the key of the certificate in REDIS_TLS_CERT_FILE`);
  }
  return text;
}

function read(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
