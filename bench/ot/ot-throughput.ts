// Micro-benchmark of the OT text type on a 100 KB document: transforms/s and applies/s for
// single-character ops and paste-sized ops, and server commits/s (an op made three revisions
// ago, transformed against the three ops committed since, then checked and applied).
// Applies are timed on a string (`textType.apply`) and on a chunked `TextDocument`.
// Run: node --import tsx bench/ot/ot-throughput.ts
import { TextDocument, textType as t } from '../../protocol/ot';
import type { TextOp } from '../../protocol/schemas/collaboration';

const DOC_SIZE = 100 * 1024;
const PASTE_SIZE = 2 * 1024;
const SECONDS = Number(process.env.OT_BENCH_SECONDS ?? 0.6);
const LAG = 3; // revisions between the one an op was made on and the server's

let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

// Code with an emoji on each line: the document is a two-byte string, as most real ones are.
const line = 'const value = compute(input, 42); // a line of code with some text 😀\n';
function makeText(size: number): string {
  let s = '';
  while (s.length < size) s += line;
  s = s.slice(0, size);
  const u = s.charCodeAt(s.length - 1);
  return u >= 0xd800 && u <= 0xdbff ? s.slice(0, -1) : s;
}

/** A random insert or delete of about `size` code units, valid on `doc`. */
function randomOp(doc: string, size: number): TextOp {
  let p = Math.floor(random() * (doc.length + 1));
  if (p > 0 && p < doc.length && doc.charCodeAt(p) >= 0xdc00 && doc.charCodeAt(p) <= 0xdfff) p--;
  if (random() < 0.5 || doc.length - p < size + 1) return t.fromChange(p, '', makeText(size));
  let end = p + size;
  const u = doc.charCodeAt(end);
  if (u >= 0xdc00 && u <= 0xdfff) end++;
  return t.fromChange(p, doc.slice(p, end), '');
}

let sink = 0;
function measure(name: string, count: number, run: (i: number) => void): void {
  for (let i = 0; i < count; i++) run(i); // warm-up
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < count; i++) run(i);
    n += count;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < SECONDS);
  console.log(
    `${name.padEnd(62)} ${Math.round(n / elapsed)
      .toLocaleString('en-US')
      .padStart(11)} /s`,
  );
}

/**
 * A server history: each incoming op is made on the document LAG revisions back (or the start);
 * the server transforms it against the ops committed since and applies it. Returns the incoming
 * ops and their base revisions; replaying them yields the same commits every time.
 */
function history(doc: string, n: number, size: number): { op: TextOp; rev: number }[] {
  const docs = [doc];
  const committed: TextOp[] = [];
  const incoming: { op: TextOp; rev: number }[] = [];
  for (let i = 0; i < n; i++) {
    const rev = Math.max(0, committed.length - LAG);
    let op = randomOp(docs[rev]!, size);
    incoming.push({ op, rev });
    for (let r = rev; r < committed.length; r++) op = t.transform(op, committed[r]!, 'right');
    committed.push(op);
    docs.push(t.apply(docs[docs.length - 1]!, op));
    if (docs.length > LAG + 2) docs[docs.length - LAG - 2] = ''; // keep memory small
  }
  return incoming;
}

const doc = makeText(DOC_SIZE);
console.log(`document: ${doc.length} UTF-16 code units (two-byte string); paste: ${PASTE_SIZE}; node ${process.version}`);

for (const [label, size] of [
  ['single-character', 1],
  ['paste-sized', PASTE_SIZE],
] as const) {
  const pairs = Array.from({ length: 1000 }, () => [randomOp(doc, size), randomOp(doc, size)] as const);
  measure(`${label}: transform`, pairs.length, (i) => {
    const [a, b] = pairs[i]!;
    sink += t.transform(a, b, 'left').length;
  });

  const incoming = history(doc, 1000, size);
  const sequence: TextOp[] = []; // the committed ops, each valid on the result of the previous ones
  {
    const committed: TextOp[] = [];
    for (const { op, rev } of incoming) {
      let o = op;
      for (let r = rev; r < committed.length; r++) o = t.transform(o, committed[r]!, 'right');
      committed.push(o);
    }
    sequence.push(...committed);
  }

  let state = doc;
  measure(`${label}: apply to a string`, sequence.length, (i) => {
    if (i === 0) state = doc;
    state = t.apply(state, sequence[i]!);
    sink += state.length;
  });
  let chunked = new TextDocument(doc);
  measure(`${label}: apply to a TextDocument`, sequence.length, (i) => {
    if (i === 0) chunked = new TextDocument(doc);
    chunked.apply(sequence[i]!);
    sink += chunked.length;
  });

  const committed: TextOp[] = [];
  measure(`${label}: commit, TextDocument (${LAG} transforms + apply)`, incoming.length, (i) => {
    if (i === 0) {
      chunked = new TextDocument(doc);
      committed.length = 0;
    }
    const { op, rev } = incoming[i]!;
    let o = op;
    for (let r = rev; r < committed.length; r++) o = t.transform(o, committed[r]!, 'right');
    chunked.apply(o);
    committed.push(o);
  });
  measure(`${label}: commit, string (${LAG} transforms + apply)`, incoming.length, (i) => {
    if (i === 0) {
      state = doc;
      committed.length = 0;
    }
    const { op, rev } = incoming[i]!;
    let o = op;
    for (let r = rev; r < committed.length; r++) o = t.transform(o, committed[r]!, 'right');
    state = t.apply(state, o);
    committed.push(o);
  });
  if (chunked.toString() !== state) throw new Error('TextDocument and apply disagree');
}

if (sink === 0.5) console.log(sink);
