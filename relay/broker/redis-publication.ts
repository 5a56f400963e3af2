import type { BrokerMessage, Publication } from './broker';

/**
 * The Redis broker's publication format, written and read here (the Lua scripts that publish put
 * the same payload together from the parts they are given: `broker-publish.lua`, and
 * `document-commit.lua` with the payload of `encodePublications`).
 *
 * - Shard channel: `<prefix>{<channel>}`, or `<prefix><channel>` for a channel with its own hash
 *   tag (`shardChannel`), which is also the base of the channel's keys.
 * - Header: the message's JSON without `data`, which is carried as is: nobody parses the envelope
 *   twice, and new message fields travel without a format change.
 * - Payload on the shard channel: `<offset>\n<header>\n<data>` (offset 0: not kept in history).
 *   Neither the offset nor JSON text holds a raw newline.
 * - Batch payload (several messages kept out of history, published at once: the commits of one
 *   group commit, see `DocumentStore.commit`): `*<count>\n`, then per message
 *   `<header>\n<data length>\n<data>`, the length in UTF-16 code units (which Redis's UTF-8
 *   round trip keeps: a lone surrogate comes back as one U+FFFD). One message for the subscribers
 *   to parse instead of one per commit; they get the messages one by one, in order.
 * - A payload may open with a record for another reader of the channel, skipped by the broker:
 *   `#<record length>\n<record>`, then the payload as above. The document store's commits carry
 *   theirs this way (`redis-document-store.ts` has its format): every relay that gets the edits
 *   also learns the commit, and keeps its copy of the document current without a read.
 * - Entry of the channel's history stream: id `<offset>-0`, fields `h` header, `d` data.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The shard channel of a broker channel: `<prefix>{<channel>}`, or `<prefix><channel>` when the
 * channel names its own hash tag (a non-empty `{…}`, Redis's rule: the first `{` and the first `}`
 * after it). Channels with the same tag, and their keys, share one hash slot: the hub tags its
 * session and document channels with the session id, so that on Redis Cluster a session's
 * channels, logs and documents live on one shard and a commit script may publish on its
 * document's channel. The subscriber hands channel names back decoded from UTF-8: a name that is
 * not well-formed UTF-16 (a lone surrogate) is named by what Redis will actually return.
 */
export function shardChannel(prefix: string, channel: string): string {
  const wellFormed = SURROGATE.test(channel) ? Buffer.from(channel).toString() : channel;
  return hasHashTag(wellFormed) ? `${prefix}${wellFormed}` : `${prefix}{${wellFormed}}`;
}

/** Whether Redis Cluster hashes `name` by a `{…}` part of it rather than by the whole name. */
export function hasHashTag(name: string): boolean {
  const open = name.indexOf('{');
  return open >= 0 && name.indexOf('}', open + 1) > open + 1;
}

/** The message as the publish script takes it: the header, and the data as is. */
export function encodeHeader(message: BrokerMessage): { header: string; data: string } {
  const { data, ...meta } = message;
  return { header: JSON.stringify(meta), data };
}

/**
 * The shard channel and payload of a publication kept out of history (offset 0), for a script
 * that publishes it itself (the document store's commit, see `RedisDocumentStore`).
 */
export function encodePublication(prefix: string, channel: string, message: BrokerMessage): [channel: string, payload: string] {
  const { header, data } = encodeHeader(message);
  return [shardChannel(prefix, channel), `0\n${header}\n${data}`];
}

/**
 * The shard channel and one payload for `messages` kept out of history, published in this order
 * by a script that publishes them itself (the document store's group commit): one message as
 * `encodePublication` has it, several as a batch.
 */
export function encodePublications(
  prefix: string,
  channel: string,
  messages: readonly BrokerMessage[],
): [channel: string, payload: string] {
  if (messages.length === 1) return encodePublication(prefix, channel, messages[0]!);
  let payload = `*${messages.length}\n`;
  for (const message of messages) {
    const { header, data } = encodeHeader(message);
    payload += `${header}\n${data.length}\n${data}`;
  }
  return [shardChannel(prefix, channel), payload];
}

/** `payload` (of `encodePublications`) opened with `record` for another reader of the channel (see the format above). */
export function withRecord(record: string, payload: string): string {
  return `#${record.length}\n${record}${payload}`;
}

/** The record a payload opens with (`withRecord`), if any. */
export function recordOf(payload: string): string | undefined {
  if (!payload.startsWith('#')) return undefined;
  const end = payload.indexOf('\n');
  const length = Number(payload.slice(1, end));
  if (end < 0 || !Number.isSafeInteger(length) || end + 1 + length > payload.length) return undefined;
  return payload.slice(end + 1, end + 1 + length);
}

/** The publications of a payload received on a shard channel, one or a batch. Throws on one that does not decode. */
export function decodePublications(payload: string): Publication[] {
  let start = 0;
  if (payload.startsWith('#')) {
    const end = payload.indexOf('\n');
    const length = Number(payload.slice(1, end));
    if (end < 0 || !Number.isSafeInteger(length) || length < 0) throw new Error('a record without its length');
    start = end + 1 + length;
  }
  if (payload[start] !== '*') return [decodePublication(start === 0 ? payload : payload.slice(start))];
  let at = payload.indexOf('\n', start);
  const count = Number(payload.slice(start + 1, at));
  if (!Number.isSafeInteger(count) || count < 0) throw new Error('a batch publication without its count');
  const publications: Publication[] = [];
  for (let i = 0; i < count; i++) {
    const headerEnd = payload.indexOf('\n', at + 1);
    const lengthEnd = payload.indexOf('\n', headerEnd + 1);
    if (headerEnd < 0 || lengthEnd < 0) throw new Error('a batch publication cut short');
    const meta = JSON.parse(payload.slice(at + 1, headerEnd)) as Omit<BrokerMessage, 'data'>;
    const length = Number(payload.slice(headerEnd + 1, lengthEnd));
    if (!Number.isSafeInteger(length) || length < 0 || lengthEnd + 1 + length > payload.length)
      throw new Error('a batch publication cut short');
    publications.push({ ...meta, data: payload.slice(lengthEnd + 1, lengthEnd + 1 + length), offset: 0 });
    at = lengthEnd + length;
  }
  if (at + 1 !== payload.length) throw new Error('a batch publication with more than its count');
  return publications;
}

/** A payload received on a shard channel. Throws on a header that is not JSON. */
export function decodePublication(payload: string): Publication {
  const first = payload.indexOf('\n');
  const second = payload.indexOf('\n', first + 1);
  const meta = JSON.parse(payload.slice(first + 1, second)) as Omit<BrokerMessage, 'data'>;
  return { ...meta, data: payload.slice(second + 1), offset: Number(payload.slice(0, first)) };
}

/** An entry of a channel's history stream, as XRANGE returns it. */
export function decodeStreamEntry(id: string, fields: string[]): Publication {
  let header = '{}';
  let data = '';
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'h') header = fields[i + 1]!;
    else if (fields[i] === 'd') data = fields[i + 1]!;
  }
  const meta = JSON.parse(header) as Omit<BrokerMessage, 'data'>;
  return { ...meta, data, offset: Number(id.slice(0, id.indexOf('-'))) };
}
