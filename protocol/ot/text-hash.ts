/**
 * A fingerprint of a text, for the convergence check (`collaboration.check`): a client and the
 * relay compare the hash of the document at one revision instead of the text. Not cryptographic
 * (no one gains by forging one: a mismatch only makes the relay send its own text), but 53 bits
 * make a missed divergence practically impossible. cyrb53 (public domain, bryc) over UTF-16 code
 * units, so it runs the same in the relay, the extension and a browser, without `node:crypto`.
 */
export function textHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}
