import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type RelayConfig } from './config';

export interface ResolvedSecret {
  secret: string;
  /** Set when the secret was generated for development (and where it is kept). */
  generatedAt?: string;
}

/**
 * The HS256 secret. Without AUTH_SECRET a development relay generates one and keeps it in the
 * state directory, so `relay token` (another process) signs with the same secret and tokens
 * survive a restart. In production a missing secret is an error, never a silent default.
 */
export function resolveAuthSecret(config: RelayConfig): ResolvedSecret {
  if (config.authSecret) return { secret: config.authSecret };
  if (config.production) {
    throw new ConfigError('Invalid configuration: AUTH_SECRET is required when NODE_ENV=production');
  }
  const path = join(config.stateDir, 'dev-secret');
  try {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing.length >= 32) return { secret: existing, generatedAt: path };
  } catch {
    // Not there yet: generate below.
  }
  const secret = randomBytes(32).toString('base64url');
  try {
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: RELAY_STATE_DIR ${config.stateDir} is not writable ` +
        `(${(error as NodeJS.ErrnoException).code ?? 'error'}); set AUTH_SECRET instead`,
    );
  }
  return { secret, generatedAt: path };
}
