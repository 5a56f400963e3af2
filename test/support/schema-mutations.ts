/**
 * Mutations of schema-valid frames (schema-arbitrary.ts): each breaks one rule of the schema, or
 * of the wire (JSON, UTF-8, size, binary), at a place chosen by a seeded random source. A mutation
 * is likely, not certain, to make the frame invalid (deleting a key that another union branch
 * does without, say): the oracle (schema-oracle.ts) has the last word on every frame.
 */
import fc from 'fast-check';
import { DANGEROUS_KEYS, deepArrays, deepObjects, type Json, type Key, withValue, WRONG_VALUES } from './bad-frames';
import type { GeneratedFrame, JsonSchema, ProtocolSchemas } from './schema-arbitrary';

/** What goes on the wire: a text frame (a string, or bytes that may not be UTF-8), or a binary one. */
export interface WireFrame {
  label: string;
  data: string | Buffer;
  binary?: boolean;
}

export interface MutationLimits {
  /** The relay's WS_MAX_FRAME_BYTES. */
  frameBytes: number;
  /** Frames above this are cut off by the socket (close 1009), not answered. */
  hardFrameBytes: number;
}

interface Node {
  path: Key[];
  value: Json;
  schema: JsonSchema;
}

/** A small seeded PRNG (mulberry32): one per mutation, seeded by fast-check. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: <T>(items: readonly T[]): T => items[int(items.length)]! };
}
type Random = ReturnType<typeof random>;

const typeOf = (value: Json) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'array'
      : typeof value === 'number'
        ? Number.isInteger(value)
          ? 'integer'
          : 'number'
        : typeof value;

/** The union branch `value` belongs to: the first of the right type whose constants match. */
function branchFor(schema: JsonSchema, value: Json): JsonSchema {
  const union = schema.anyOf ?? schema.oneOf;
  if (!union) return schema;
  const fits = (branch: JsonSchema) => {
    const type = typeOf(value);
    if (branch.type !== undefined && branch.type !== type && !(branch.type === 'number' && type === 'integer')) return false;
    if (branch.properties === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return true;
    return Object.entries(branch.properties).every(([key, sub]) => sub.const === undefined || value[key] === sub.const);
  };
  return branchFor(union.find(fits) ?? union[0]!, value);
}

/** Every value in the frame with the schema node that governs it, the frame itself first. */
function nodesOf(value: Json, schema: JsonSchema, path: Key[] = []): Node[] {
  const node = branchFor(schema, value);
  const out: Node[] = [{ path, value, schema: node }];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...nodesOf(item, node.items ?? {}, [...path, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) out.push(...nodesOf(item, node.properties?.[key] ?? {}, [...path, key]));
  }
  return out;
}

/** The envelope's schema with this event's payload schema in place of its `payload: {}`. */
function frameSchema(schemas: ProtocolSchemas, eventType: string): JsonSchema {
  const { envelope } = schemas;
  return { ...envelope, properties: { ...envelope.properties, payload: schemas.client.get(eventType) ?? {} } };
}

const at = (path: Key[]) =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}.${key}`), '') || '(frame)';
const SENTINEL = '\u0000sentinel\u0000';

type Mutation = (frame: Json, nodes: Node[], rng: Random, limits: MutationLimits, schemas: ProtocolSchemas) => WireFrame | undefined;
const text = (label: string, value: Json | undefined): WireFrame => ({ label, data: JSON.stringify(value) ?? 'undefined' });
const objects = (nodes: Node[]) => nodes.filter((n) => n.value !== null && typeof n.value === 'object' && !Array.isArray(n.value));

const mutations: Record<string, Mutation> = {
  dropRequired: (frame, nodes, rng) => {
    const holders = objects(nodes).filter((n) => (n.schema.required ?? []).some((key) => key in (n.value as object)));
    if (holders.length === 0) return undefined;
    const holder = rng.pick(holders);
    const key = rng.pick(holder.schema.required!.filter((k) => k in (holder.value as object)));
    return text(`without ${at([...holder.path, key])}`, withValue(frame, [...holder.path, key], undefined));
  },
  wrongType: (frame, nodes, rng) => {
    const node = rng.pick(nodes);
    const wrong = rng.pick(WRONG_VALUES.filter((v) => typeOf(v) !== typeOf(node.value)));
    return text(`${at(node.path)} = ${JSON.stringify(wrong)}`, withValue(frame, node.path, wrong));
  },
  extraKey: (frame, nodes, rng) => {
    const node = rng.pick(objects(nodes));
    const key = rng.pick(['extra', 'Event_Type', ...DANGEROUS_KEYS]);
    return text(`${at(node.path)} with key ${key}`, withValue(frame, [...node.path, key], rng.pick(WRONG_VALUES)));
  },
  outOfRange: (frame, nodes, rng) => {
    const numbers = nodes.filter((n) => typeof n.value === 'number');
    if (numbers.length === 0) return undefined;
    const { path, schema } = rng.pick(numbers);
    const low = schema.minimum ?? schema.exclusiveMinimum ?? 0;
    const high = schema.maximum ?? schema.exclusiveMaximum ?? Number.MAX_SAFE_INTEGER;
    const wrong = rng.pick([low - 1, schema.exclusiveMinimum ?? low - 0.5, high + 1, 2 ** 53, 1e308, -1e308, 0.5, low + 0.25]);
    return text(`${at(path)} = ${wrong}`, withValue(frame, path, wrong));
  },
  stringLength: (frame, nodes, rng, limits) => {
    const strings = nodes.filter((n) => typeof n.value === 'string');
    if (strings.length === 0) return undefined;
    const { path, schema } = rng.pick(strings);
    // Over the field's limit where that fits in a frame; else an empty one (below minLength).
    const over = (schema.maxLength ?? Infinity) + 1 + rng.int(10);
    const wrong = over < limits.frameBytes - 1000 ? 'y'.repeat(over) : '';
    return text(`${at(path)} of ${wrong.length} chars`, withValue(frame, path, wrong));
  },
  breakPattern: (frame, nodes, rng) => {
    const patterned = nodes.filter(
      (n) => typeof n.value === 'string' && (n.schema.pattern !== undefined || n.schema.enum || n.schema.const !== undefined),
    );
    if (patterned.length === 0) return undefined;
    const { path, value } = rng.pick(patterned);
    const s = value as string;
    const wrong = rng.pick([
      ` ${s}`,
      `${s}\n`,
      `${s}\u0000`,
      s.toUpperCase() + 'Z',
      `../${s}`,
      `${s}/..`,
      '\\',
      '.',
      '..',
      s.slice(1),
      `${s}é`,
    ]);
    return text(`${at(path)} = ${JSON.stringify(wrong).slice(0, 30)}`, withValue(frame, path, wrong));
  },
  arrayBounds: (frame, nodes, rng) => {
    const arrays = nodes.filter((n) => Array.isArray(n.value) && (n.schema.maxItems !== undefined || n.schema.minItems !== undefined));
    if (arrays.length === 0) return undefined;
    const { path, value, schema } = rng.pick(arrays);
    const items = value as Json[];
    const filler = items[0] ?? 1;
    const wrong =
      schema.maxItems !== undefined && (schema.minItems === undefined || rng.int(2) === 0)
        ? Array<Json>(schema.maxItems + 1).fill(filler)
        : [];
    return text(`${at(path)} of ${wrong.length} items`, withValue(frame, path, wrong));
  },
  eventType: (frame, _nodes, rng, _limits, schemas) => {
    const current = (frame as { event_type: string }).event_type;
    const wrong = rng.pick([
      rng.pick([...schemas.client.keys()]),
      rng.pick(schemas.serverOnly),
      current.toUpperCase(),
      `${current}.`,
      current.split('.')[0]!,
      'x'.repeat(65),
      rng.pick(DANGEROUS_KEYS),
    ]);
    return text(`event_type ${current} -> ${wrong.slice(0, 30)}`, withValue(frame, ['event_type'], wrong));
  },
  nonJson: (frame, _nodes, rng) => {
    const valid = JSON.stringify(frame);
    const cut = 1 + rng.int(valid.length - 1);
    const data = rng.pick([
      valid.slice(0, cut),
      valid.slice(0, cut) + rng.pick([',', '}', ']', ':', '\\', "'", 'undefined']) + valid.slice(cut),
      `${valid}${rng.pick(['}', ',', ' x', '{}'])}`,
      valid.replace(/"/g, "'"),
      valid.replace(/:/, ' '),
    ]);
    return { label: `not JSON (cut at ${cut})`, data };
  },
  deepNesting: (frame, nodes, rng) => {
    const { path } = rng.pick(nodes);
    const depth = 1 + rng.int(rng.pick([4, 100, 5000]));
    const marked = JSON.stringify(withValue(frame, path, SENTINEL)) ?? JSON.stringify(SENTINEL);
    const deep = rng.int(2) === 0 ? deepArrays(depth) : deepObjects(depth);
    return { label: `${at(path)} nested ${depth} deep`, data: marked.replace(JSON.stringify(SENTINEL), deep) };
  },
  frameSize: (frame, nodes, rng, limits) => {
    const strings = nodes.filter((n) => typeof n.value === 'string' && n.path.length > 1);
    const { path } = strings.length > 0 ? rng.pick(strings) : { path: ['payload', 'padding'] };
    const base = Buffer.byteLength(JSON.stringify(frame));
    // Mostly just over the limit (answered FRAME_TOO_LARGE); rarely over the socket's own limit.
    const target =
      rng.int(20) === 0
        ? limits.hardFrameBytes + 1 + rng.int(1000)
        : limits.frameBytes + 1 + rng.int(limits.hardFrameBytes - limits.frameBytes - 1);
    const data = JSON.stringify(withValue(frame, path, 'z'.repeat(Math.max(0, target - base))));
    return { label: `${at(path)} padded to ${Buffer.byteLength(data)} bytes`, data };
  },
  binary: (frame) => ({ label: 'sent as binary', data: Buffer.from(JSON.stringify(frame)), binary: true }),
  notUtf8: (frame, _nodes, rng) => {
    const bytes = Buffer.from(JSON.stringify(frame));
    bytes[rng.int(bytes.length)] = rng.pick([0xff, 0xc0, 0xfe]);
    return { label: 'not UTF-8', data: bytes };
  },
};

/** How often each mutation is chosen (a socket-closing one rarely: each costs a reconnect). */
const WEIGHTS: Record<string, number> = {
  dropRequired: 8,
  wrongType: 10,
  extraKey: 6,
  outOfRange: 6,
  stringLength: 6,
  breakPattern: 6,
  arrayBounds: 4,
  eventType: 5,
  nonJson: 5,
  deepNesting: 4,
  frameSize: 3,
  binary: 1,
  notUtf8: 0.2,
};

/** One mutation of `generated`, the mutation and the place chosen by `seed`; undefined if it does not apply. */
export function mutate(generated: GeneratedFrame, seed: number, schemas: ProtocolSchemas, limits: MutationLimits): WireFrame | undefined {
  const rng = random(seed);
  const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  let roll = (rng.int(1_000_000) / 1_000_000) * total;
  const name = Object.keys(WEIGHTS).find((key) => (roll -= WEIGHTS[key]!) < 0) ?? 'wrongType';
  const nodes = nodesOf(generated.frame, frameSchema(schemas, generated.eventType));
  const mutated = mutations[name]!(generated.frame, nodes, rng, limits, schemas);
  return mutated && { ...mutated, label: `${name} ${generated.eventType}: ${mutated.label}` };
}

/** Mutated frames: a valid frame from `valid` and a seed for the mutation, both from fast-check. */
export function mutatedFrameArbitrary(
  valid: fc.Arbitrary<GeneratedFrame>,
  schemas: ProtocolSchemas,
  limits: MutationLimits,
): fc.Arbitrary<WireFrame> {
  return fc
    .tuple(valid, fc.nat())
    .map(([generated, seed]) => mutate(generated, seed, schemas, limits))
    .filter((frame): frame is WireFrame => frame !== undefined);
}
