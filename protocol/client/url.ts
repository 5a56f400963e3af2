/** A session log position to resume from (see `SessionLogPosition`). */
export interface ResumePosition {
  epoch: string;
  offset: number;
}

/**
 * The relay's WebSocket URL with the token and, optionally, the session in the query
 * (`ws://host:port/ws?token=JWT&session=ID`, the relay's URL contract), and the session log position
 * to resume from (`&since_offset=N&since_epoch=E`; `&since_offset=0` alone: from the oldest event kept).
 * Forgiving about the base: `http(s)://`
 * becomes `ws(s)://`, and a bare origin gets the `/ws` path.
 */
export function relayUrl(endpoint: string, token: string, session?: string, since?: ResumePosition): string {
  let base = endpoint.trim().replace(/#.*$/u, '');
  base = base.replace(/^http(s?):\/\//iu, 'ws$1://');
  if (!/^wss?:\/\//iu.test(base)) throw new TypeError(`relay URL must start with ws://, wss://, http:// or https://, got "${endpoint}"`);
  // Only a scheme and a host (no path, no query): add the relay's endpoint path.
  if (/^wss?:\/\/[^/?]+\/?$/iu.test(base)) base = `${base.replace(/\/$/u, '')}/ws`;
  let query = `token=${encodeURIComponent(token)}`;
  if (session !== undefined) query += `&session=${encodeURIComponent(session)}`;
  // No epoch (a first connection asking for the history): `since_offset=0` alone.
  if (since !== undefined)
    query += `&since_offset=${since.offset}${since.epoch === '' ? '' : `&since_epoch=${encodeURIComponent(since.epoch)}`}`;
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}
