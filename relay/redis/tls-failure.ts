/**
 * Tells a failed TLS connection to Redis from an unreachable Redis, and says what to fix. Node's
 * TLS errors carry OpenSSL's certificate-verification codes (`SELF_SIGNED_CERT_IN_CHAIN`, ...),
 * its own `ERR_TLS_*` codes, or `ERR_SSL_*` for a handshake OpenSSL refused (an alert from the
 * server, a port that does not speak TLS).
 */
import { connect as connectTcp } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

/** OpenSSL's verification codes that mean "the chain does not lead to a CA the relay trusts". */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
/** Verification codes about the certificate itself (dates, use): their message says enough. */
const INVALID = /^(CERT_|ERROR_IN_CERT|PATH_LENGTH_EXCEEDED|INVALID_PURPOSE|HOSTNAME_MISMATCH)/;
/** The server's alert: it wants a client certificate, or does not accept the relay's. */
const CLIENT_CERTIFICATE_REFUSED = /^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_BAD_CERTIFICATE|TLSV1_ALERT_UNKNOWN_CA)/;
/** What a TLS client gets from a port that answers in plain text (not a handshake cut short, which may be passing). */
const NOT_TLS = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG)$/;

/** `probe`'s error for a port that accepted the TCP connection but completed no TLS handshake. */
export const NO_HANDSHAKE = 'TANDEM_TLS_NO_HANDSHAKE';
/** `probe`'s error for a server that closed the connection before it answered. */
export const CLOSED_UNANSWERED = 'TANDEM_CLOSED_UNANSWERED';

export interface TlsContext {
  /** Whether the relay has a CA file (REDIS_TLS_CA_FILE) rather than the system's CAs. */
  ownCa: boolean;
}

/**
 * One line on a TLS failure ("self-signed certificate in certificate chain (the relay does not
 * trust ...)"), or undefined if `error` is not one. Such a failure does not mend itself by
 * retrying, so the caller stops at once.
 */
export function describeTlsFailure(error: Error, context: TlsContext): string | undefined {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  // OpenSSL's own errors carry a multi-line message (with its source file); `reason` is the gist.
  const reason = code.startsWith('ERR_SSL_') ? (error as { reason?: string }).reason : undefined;
  const message = (reason ?? error.message).trim();
  if (UNTRUSTED.has(code)) {
    const fix = context.ownCa ? 'it is not signed by a CA in REDIS_TLS_CA_FILE' : 'set REDIS_TLS_CA_FILE to the CA that signed it';
    return `${message} (the relay does not trust the server's certificate: ${fix})`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `${message} (the server's certificate does not name the host or IP address the relay connects to)`;
  if (INVALID.test(code)) return `${message} (the server's certificate)`;
  if (CLIENT_CERTIFICATE_REFUSED.test(code)) {
    return `${message} (the server wants a client certificate signed by a CA it trusts: REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE)`;
  }
  if (NOT_TLS.test(code) || code === NO_HANDSHAKE) return `${message} (does the server take TLS on this port?)`;
  return undefined;
}

/**
 * A hint for a connection that Redis closed or reset right away with no reason given. A server
 * that checks client certificates (`tls-auth-clients yes`) drops a TLS client without one, or with
 * one it does not trust, after the handshake; a TLS-only port drops a plain-text client. It may
 * also be an ordinary outage, hence a question.
 */
export function connectionResetHint(tls: { clientCertificate: boolean } | undefined, cluster: boolean): string {
  if (!tls) return `does it take TLS only? Then ${cluster ? 'set REDIS_CLUSTER_TLS=true' : 'use a rediss:// URL'}`;
  return tls.clientCertificate
    ? 'it closed the TLS connection: does it trust the relay’s client certificate (REDIS_TLS_CERT_FILE)?'
    : 'it closed the TLS connection: does it want a client certificate (REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE)?';
}

/**
 * One connection to `host:port` (TLS with `tls`, as the relay's connections make it) and a PING:
 * the error if it fails or the server closes it unanswered, undefined once it answers (whatever
 * it answers: a password is checked elsewhere). ioredis hides the cause of some failures (a
 * start-up node's CLUSTER SLOTS connection swallows its errors; a server that refuses the client
 * certificate shows as a reset write), the probe sees them.
 */
export function probe(
  target: { host: string; port: number },
  tls: ConnectionOptions | undefined,
  timeoutMs: number,
): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const where = { host: target.host, port: target.port };
    const socket = tls ? connectTls({ ...tls, ...where }) : connectTcp(where);
    let connected = false;
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    };
    const failure = (code: string, message: string) => Object.assign(new Error(message), { code });
    const timer = setTimeout(() => {
      if (tls && connected) done(failure(NO_HANDSHAKE, `connected, but no TLS handshake within ${timeoutMs} ms`));
      else done(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => (connected = true));
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.once('data', () => done());
    socket.on('error', done); // not once: a TLS socket may emit another after the first (an alert on its way out)
    socket.once('close', () => done(failure(CLOSED_UNANSWERED, 'closed by the server before it answered')));
  });
}
