/** The most characters (code points) of a display name a guest picks; longer ones are cut. */
export const MAX_DISPLAY_NAME_CHARS = 64;

/**
 * Control characters, format characters (zero-width joiners, the bidi embeddings, overrides and
 * isolates U+202A-202E and U+2066-2069, marks such as U+200E/F and U+061C), separators other
 * than a plain space, and lone surrogates. A name shows in every participant's editor: a bidi
 * override would make "Alice" read as someone else, a newline forge a line of the chat.
 */
const UNWANTED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/gu;

/**
 * A display name fit to show to others: the characters above removed, runs of whitespace one
 * space, trimmed, at most MAX_DISPLAY_NAME_CHARS characters; undefined if nothing is left.
 */
export function cleanDisplayName(raw: string): string | undefined {
  // Whitespace first (a newline or tab becomes a space, not nothing), then the rest goes.
  const cleaned = raw.replace(/\s+/gu, ' ').replace(UNWANTED, '').replace(/ {2,}/gu, ' ').trim();
  const bounded = [...cleaned].slice(0, MAX_DISPLAY_NAME_CHARS).join('').trim();
  return bounded.length > 0 ? bounded : undefined;
}
