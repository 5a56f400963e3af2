import type { BrokerMessage, Publication } from './broker';

/**
 * The Redis broker's publication format, written and read here (the Lua scripts that publish put
 * the same payload together from the parts they are given: `broker-publish.lua`, and
 * `document-append.lua` with the payload of `encodePublication`).
 *
 * - Shard channel: `<prefix>{<channel>}`, which is also the base of the channel's keys.
 * - Header: the message's JSON without `data`, which is carried as is: nobody parses the envelope
 *   twice, and new message fields travel without a format change.
 * - Payload on the shard channel: `<offset>\n<header>\n<data>` (offset 0: not kept in history).
 *   Neither the offset nor JSON text holds a raw newline.
 * - Entry of the channel's history stream: id `<offset>-0`, fields `h` header, `d` data.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The shard channel of a broker channel. The subscriber hands channel names back decoded from
 * UTF-8: a name that is not well-formed UTF-16 (a lone surrogate) is named by what Redis will
 * actually return.
 */
export function shardChannel(prefix: string, channel: string): string {
  const wellFormed = SURROGATE.test(channel) ? Buffer.from(channel).toString() : channel;
  return `${prefix}{${wellFormed}}`;
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
