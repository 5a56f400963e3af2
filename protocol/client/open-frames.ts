import { jsonPrefixUnits, MIN_SPLIT_BYTES } from '../ot/split-op';
import type { OpenPayload } from '../schemas/collaboration';

/** Room left in a frame for the envelope around the payload. */
const ENVELOPE_ALLOWANCE_BYTES = 1024;
/** The least room a piece of text gets, whatever the frame limit: a few characters. */
const MIN_PIECE_BYTES = 64;

/**
 * The `collaboration.open` frames that carry `open` within the relay's frame limit (the
 * `connect` payload's `limits.max_frame_bytes`): a long `text` goes in pieces with `more: true`,
 * everything else rides on the last piece, which the relay answers. A rejoin's `recovery.history`
 * loses its oldest entries if the last frame would still be too large: fewer only means a coarser
 * merge, should the relay have lost the document.
 */
export function openFrames(open: OpenPayload, maxFrameBytes = 64 * 1024): OpenPayload[] {
  const text = open.text ?? '';
  const frames: OpenPayload[] = [];
  const limit = maxFrameBytes - ENVELOPE_ALLOWANCE_BYTES;
  // Each piece as much text as its frame holds, measured as JSON: a piece of 3-byte characters or
  // escaped control characters fits a small frame limit too.
  const room = Math.max(MIN_PIECE_BYTES, limit - utf8Length(JSON.stringify(open.document)) - 32);
  let last = 0;
  for (;;) {
    const units = jsonPrefixUnits(last === 0 ? text : text.slice(last), room);
    if (units >= text.length - last) break;
    frames.push({ document: open.document, text: text.slice(last, last + units), more: true });
    last += units;
  }
  let final: OpenPayload = { ...open, ...(open.text !== undefined && { text: text.slice(last) }) };
  while (final.recovery && final.recovery.history.length > 0 && utf8Length(JSON.stringify(final)) > limit) {
    const history = final.recovery.history;
    final = { ...final, recovery: { ...final.recovery, history: history.slice(Math.ceil(history.length / 4)) } };
  }
  // The pending edits (each within `maxEditOpBytes`) and the end of the text may not fit together.
  if (final.recovery && final.text && utf8Length(JSON.stringify(final)) > limit) {
    frames.push({ document: open.document, text: final.text, more: true });
    final = { ...final, text: '' };
  }
  frames.push(final);
  return frames;
}

/**
 * The most JSON bytes of op one `collaboration.edit` of `document` may carry (`ClientDocument`'s
 * `maxOpBytes`) under the relay's frame limit: half of what the frame leaves beside the envelope
 * and the document id, since a rejoin's upload carries two pending ops in one frame (`openFrames`).
 */
export function maxEditOpBytes(document: string, maxFrameBytes = 64 * 1024): number {
  return Math.max(MIN_SPLIT_BYTES, Math.floor((maxFrameBytes - ENVELOPE_ALLOWANCE_BYTES - utf8Length(JSON.stringify(document))) / 2));
}

/** The UTF-8 size of a string (no TextEncoder in every runtime `protocol/` targets). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
