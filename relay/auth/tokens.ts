import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { DisplayName, ProtocolError, Role, SessionId, UserId } from '../../protocol';

/** What a valid token proves. */
export const TokenClaims = z.object({
  sub: UserId,
  name: DisplayName.optional(),
  /** Sessions the holder may join. */
  sessions: z.array(SessionId).min(1).max(100),
  role: Role,
  /** Operators: may notify every session through the REST API. */
  admin: z.boolean().optional(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

export interface Principal {
  userId: string;
  displayName: string;
  sessions: readonly string[];
  role: Role;
  admin: boolean;
}

export interface MintOptions {
  user: string;
  name?: string;
  sessions: string[];
  role: Role;
  admin?: boolean;
  /** jsonwebtoken's `expiresIn`: seconds, or a string like `1h`, `30m`, `7d`. */
  ttl: string | number;
}

const secretKeys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) secretKeys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

export function mintToken(secret: string, options: MintOptions): string {
  const claims = TokenClaims.parse({
    sub: options.user,
    name: options.name,
    sessions: options.sessions,
    role: options.role,
    ...(options.admin ? { admin: true } : {}),
  });
  return jwt.sign(claims, secretKey(secret), { algorithm: 'HS256', expiresIn: options.ttl as jwt.SignOptions['expiresIn'] });
}

/** Verifies signature, algorithm, expiry and claims. Throws ProtocolError with an AUTH_* code. */
export function verifyToken(secret: string, token: string | undefined): Principal {
  if (!token) throw new ProtocolError('AUTH_TOKEN_MISSING');
  let decoded: unknown;
  try {
    decoded = jwt.verify(token, secretKey(secret), { algorithms: ['HS256'] });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError) throw new ProtocolError('AUTH_TOKEN_EXPIRED');
    throw new ProtocolError('AUTH_TOKEN_INVALID');
  }
  const claims = TokenClaims.safeParse(decoded);
  if (!claims.success) {
    const field = String(claims.error.issues[0]?.path[0] ?? 'claims');
    throw new ProtocolError('AUTH_TOKEN_INVALID', `the token's "${field}" claim is missing or invalid`);
  }
  if (typeof (decoded as { exp?: unknown }).exp !== 'number') {
    throw new ProtocolError('AUTH_TOKEN_INVALID', 'the token has no expiry ("exp" claim)');
  }
  const { sub, name, sessions, role, admin } = claims.data;
  return { userId: sub, displayName: name ?? sub, sessions, role, admin: admin ?? false };
}
