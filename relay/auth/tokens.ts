import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
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
  /**
   * Minted by the sessions API: valid only while its session's record exists and has not ended.
   * Without it (operator-minted tokens of ad hoc sessions) there is no record to ask.
   */
  rec: z.literal(true).optional(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

export interface Principal {
  userId: string;
  displayName: string;
  sessions: readonly string[];
  role: Role;
  admin: boolean;
  /** The token needs its session's live record (`rec` claim): see `SessionDirectory.assertLive`. */
  recordRequired: boolean;
}

export interface MintOptions {
  user: string;
  name?: string;
  sessions: string[];
  role: Role;
  admin?: boolean;
  /** Sets the `rec` claim: the token dies with its session's record (sessions API tokens). */
  recordRequired?: boolean;
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
    ...(options.recordRequired ? { rec: true } : {}),
  });
  return jwt.sign(claims, secretKey(secret), { algorithm: 'HS256', expiresIn: options.ttl as jwt.SignOptions['expiresIn'] });
}

/** Verifies signature, algorithm and expiry; the claims are the caller's to check. */
function verifySigned(secret: string, token: string | undefined, what = 'token'): Record<string, unknown> {
  if (!token) throw new ProtocolError('AUTH_TOKEN_MISSING');
  let decoded: unknown;
  try {
    decoded = jwt.verify(token, secretKey(secret), { algorithms: ['HS256'] });
  } catch (error) {
    if (error instanceof jwt.TokenExpiredError)
      throw new ProtocolError('AUTH_TOKEN_EXPIRED', what === 'token' ? undefined : `the ${what} has expired`);
    throw new ProtocolError('AUTH_TOKEN_INVALID', what === 'token' ? undefined : `the ${what} is malformed or has a bad signature`);
  }
  if (typeof decoded !== 'object' || decoded === null || typeof (decoded as { exp?: unknown }).exp !== 'number') {
    throw new ProtocolError('AUTH_TOKEN_INVALID', `the ${what} has no expiry ("exp" claim)`);
  }
  return decoded as Record<string, unknown>;
}

/**
 * Verifies a session token (the one a WebSocket connection presents). Throws ProtocolError with
 * an AUTH_* code; a personal token or an invite is refused with a message that says what to do.
 */
export function verifyToken(secret: string, token: string | undefined): Principal {
  const decoded = verifySigned(secret, token);
  if (decoded.kind === 'personal') {
    throw new ProtocolError('AUTH_TOKEN_INVALID', 'a personal token cannot join a session: create one with POST /api/sessions');
  }
  if (decoded.kind === 'invite')
    throw new ProtocolError('AUTH_TOKEN_INVALID', 'an invite is not a token: redeem it with POST /api/invites/redeem');
  if (decoded.kind === 'operator')
    throw new ProtocolError('AUTH_TOKEN_INVALID', 'an operator token joins no session: it reads the live metrics only');
  const claims = TokenClaims.safeParse(decoded);
  if (!claims.success) {
    const field = String(claims.error.issues[0]?.path[0] ?? 'claims');
    throw new ProtocolError('AUTH_TOKEN_INVALID', `the token's "${field}" claim is missing or invalid`);
  }
  const { sub, name, sessions, role, admin, rec } = claims.data;
  return { userId: sub, displayName: name ?? sub, sessions, role, admin: admin ?? false, recordRequired: rec === true };
}

/**
 * A personal token says who someone is, across sessions, and that they may host: it creates
 * sessions through the REST API (which answers with a session token) and joins none itself.
 * The operator mints it (`relay token --personal`); the extension keeps it in SecretStorage.
 */
const PersonalClaims = z.object({ kind: z.literal('personal'), sub: UserId, name: DisplayName.optional() });

export interface PersonalPrincipal {
  userId: string;
  displayName: string;
}

export function mintPersonalToken(secret: string, options: { user: string; name?: string; ttl: string | number }): string {
  const claims = PersonalClaims.parse({ kind: 'personal', sub: options.user, name: options.name });
  return jwt.sign(claims, secretKey(secret), { algorithm: 'HS256', expiresIn: options.ttl as jwt.SignOptions['expiresIn'] });
}

export function verifyPersonalToken(secret: string, token: string | undefined): PersonalPrincipal {
  const claims = PersonalClaims.safeParse(verifySigned(secret, token));
  if (!claims.success) throw new ProtocolError('AUTH_TOKEN_INVALID', 'this call needs a personal token (relay token --personal)');
  return { userId: claims.data.sub, displayName: claims.data.name ?? claims.data.sub };
}

/**
 * An operator token: who watches the relays. It joins no session; it reads `GET /api/metrics`
 * and `/ws/stats`, and subscribes to the live metrics over a WebSocket of its own
 * (`operator.subscribe`). Minted with `relay token --operator`.
 */
const OperatorClaims = z.object({ kind: z.literal('operator'), sub: UserId, name: DisplayName.optional() });

export interface OperatorPrincipal {
  userId: string;
  displayName: string;
}

export function mintOperatorToken(secret: string, options: { user: string; name?: string; ttl: string | number }): string {
  const claims = OperatorClaims.parse({ kind: 'operator', sub: options.user, name: options.name });
  return jwt.sign(claims, secretKey(secret), { algorithm: 'HS256', expiresIn: options.ttl as jwt.SignOptions['expiresIn'] });
}

/** Whether the token says it is an operator token (unverified: only to choose how to verify it). */
export function claimsOperator(token: string | undefined): boolean {
  const decoded = token ? jwt.decode(token) : null;
  return typeof decoded === 'object' && decoded !== null && decoded.kind === 'operator';
}

/** Verifies an operator token; AUTH_* when it is not a valid one. */
export function verifyOperatorToken(secret: string, token: string | undefined): OperatorPrincipal {
  const claims = OperatorClaims.safeParse(verifySigned(secret, token));
  if (!claims.success) throw new ProtocolError('AUTH_TOKEN_INVALID', 'this is not an operator token (relay token --operator)');
  return { userId: claims.data.sub, displayName: claims.data.name ?? claims.data.sub };
}

/**
 * The operator behind an operator-only REST call: an operator token, or a session token with the
 * `admin` claim (`relay token --admin`). Any other valid token gets `refusal` (403).
 */
export function verifyOperator(
  secret: string,
  token: string | undefined,
  refusal: 'OPERATOR_ONLY' | 'FORBIDDEN_ROLE' = 'OPERATOR_ONLY',
): OperatorPrincipal {
  if (claimsOperator(token)) return verifyOperatorToken(secret, token);
  const decoded = verifySigned(secret, token);
  const refuse = () =>
    new ProtocolError(refusal, 'only an operator (a token from `relay token --operator`, or an admin token) may read this');
  if (decoded.kind !== undefined) throw refuse();
  const principal = verifyToken(secret, token);
  if (!principal.admin) throw refuse();
  return { userId: principal.userId, displayName: principal.displayName };
}

/** Who is behind a user's REST call: a session token's participant, or a personal token's holder. */
export function verifyUser(secret: string, token: string | undefined): { userId: string; sessions?: readonly string[] } {
  if (verifySigned(secret, token).kind === 'personal') return verifyPersonalToken(secret, token);
  const principal = verifyToken(secret, token);
  return { userId: principal.userId, sessions: principal.sessions };
}

/**
 * An invite: signed, expiring, for one session and one role. It is redeemed (POST
 * /api/invites/redeem) for a session token; ending the session revokes it.
 */
const InviteClaims = z.object({
  kind: z.literal('invite'),
  sid: SessionId,
  role: z.enum(['editor', 'viewer']),
  /** With `max`: the invite's id, under which the session's record counts its uses. */
  iid: z
    .string()
    .regex(/^[\w-]{1,64}$/u)
    .optional(),
  /** The most times it may be redeemed (approved, for an approval invite). */
  max: z.number().int().min(1).max(10_000).optional(),
  /** Each redemption waits for the host's approval. */
  apr: z.literal(true).optional(),
  /** The session's invite generation it was minted in (absent: the first); renewing the links starts the next. */
  gen: z.number().int().min(1).max(1_000_000).optional(),
});
export type InviteRole = z.infer<typeof InviteClaims>['role'];

export interface InviteOptions {
  /** The most times the invite may be redeemed. */
  maxUses?: number;
  /** Each redemption waits for the host to approve it. */
  approval?: boolean;
  /** The session's invite generation (see `SessionRecord.inviteGeneration`); 0 or absent: the first. */
  generation?: number;
}

export interface Invite extends InviteOptions {
  sessionId: string;
  role: InviteRole;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** Set with `maxUses`: the id its uses are counted under. */
  inviteId?: string;
}

export function mintInvite(secret: string, options: { sessionId: string; role: InviteRole; expiresAt: number } & InviteOptions): string {
  const limited = options.maxUses !== undefined;
  const claims = InviteClaims.parse({
    kind: 'invite',
    sid: options.sessionId,
    role: options.role,
    ...(limited && { iid: randomBytes(9).toString('base64url'), max: options.maxUses }),
    ...(options.approval && { apr: true }),
    ...(options.generation && { gen: options.generation }),
  });
  return jwt.sign({ ...claims, exp: options.expiresAt }, secretKey(secret), { algorithm: 'HS256' });
}

export function verifyInvite(secret: string, invite: string | undefined): Invite {
  const decoded = verifySigned(secret, invite, 'invite');
  const claims = InviteClaims.safeParse(decoded);
  if (!claims.success) throw new ProtocolError('AUTH_TOKEN_INVALID', 'this is not an invite');
  const { sid, role, iid, max, apr, gen } = claims.data;
  return {
    sessionId: sid,
    role,
    expiresAt: decoded.exp as number,
    ...(iid !== undefined && max !== undefined && { inviteId: iid, maxUses: max }),
    ...(apr && { approval: true }),
    ...(gen !== undefined && { generation: gen }),
  };
}

/**
 * What a guest waiting for the host's approval holds: proof that the join request `rid` of
 * session `sid` is theirs, so they alone collect the session token once it is approved (the
 * host sees the request's id, never this).
 */
const JoinClaims = z.object({ kind: z.literal('join'), sid: SessionId, rid: z.string().regex(/^[\w-]{1,64}$/u) });

export function mintJoinToken(secret: string, options: { sessionId: string; requestId: string; expiresAt: number }): string {
  const claims = JoinClaims.parse({ kind: 'join', sid: options.sessionId, rid: options.requestId });
  return jwt.sign({ ...claims, exp: options.expiresAt }, secretKey(secret), { algorithm: 'HS256' });
}

export function verifyJoinToken(secret: string, token: string | undefined): { sessionId: string; requestId: string } {
  const claims = JoinClaims.safeParse(verifySigned(secret, token, 'join request token'));
  if (!claims.success) throw new ProtocolError('AUTH_TOKEN_INVALID', 'this call needs the request_token of a join request');
  return { sessionId: claims.data.sid, requestId: claims.data.rid };
}
