/**
 * fast-check arbitraries generated from the protocol's own JSON Schemas (protocol/json, made from
 * the zod schemas by `npm run schemas`), so that a fuzzer builds frames from the exported contract
 * rather than from hand-picked examples. Only the keywords those files use are understood; any
 * other keyword throws, so a schema that grows a new one cannot silently yield invalid "valid"
 * frames.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Json } from './bad-frames';

export type { Json };

/** The subset of JSON Schema (draft 2020-12) that protocol/json uses. */
export interface JsonSchema {
  $schema?: string;
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'null';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: Json[];
  const?: Json;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
}

const KNOWN_KEYWORDS = new Set<string>([
  '$schema',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
]);

export const PROTOCOL_JSON_DIR = join(__dirname, '..', '..', 'protocol', 'json');

export interface ProtocolSchemas {
  envelope: JsonSchema;
  /** Payload schema of each event a client may send. */
  client: Map<string, JsonSchema>;
  /** Events only the relay sends (a client sending one is refused with WRONG_DIRECTION). */
  serverOnly: string[];
}

/** Reads protocol/json: `<event>.<client|server>.json` and the envelopes. */
export function loadProtocolSchemas(dir = PROTOCOL_JSON_DIR): ProtocolSchemas {
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as JsonSchema;
  const client = new Map<string, JsonSchema>();
  const server = new Set<string>();
  for (const file of readdirSync(dir).sort()) {
    const match = /^(.+)\.(client|server)\.json$/.exec(file);
    if (!match || match[1] === 'envelope') continue;
    if (match[2] === 'client') client.set(match[1]!, read(file));
    else server.add(match[1]!);
  }
  return { envelope: read('envelope.client.json'), client, serverOnly: [...server].filter((name) => !client.has(name)) };
}

export interface ArbitraryOptions {
  /** Strings without a pattern are at most this long (the schemas allow up to 10,000,000). */
  maxStringLength?: number;
  /** Arrays hold at most this many items (or `minItems`, if more). */
  maxItems?: number;
  /**
   * Extra candidates for properties of these names, wherever they appear (say a few document
   * names, so that edits meet documents that were opened); they must be valid by the schema.
   */
  hints?: Record<string, fc.Arbitrary<Json>>;
}

/** Mostly ASCII, some of any plane, some lone surrogates (JSON.stringify escapes them, so they arrive). */
const stringUnit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcxyz0189 _-./:{}"\\\n\t') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
);

/** `(?!...)` and `(?=...)` removed: fast-check cannot generate lookarounds; the full regex filters. */
function withoutLookarounds(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.startsWith('(?!', i) || pattern.startsWith('(?=', i)) {
      let depth = 0;
      for (; i < pattern.length; i++) {
        if (pattern[i] === '\\') i++;
        else if (pattern[i] === '(') depth++;
        else if (pattern[i] === ')' && --depth === 0) break;
      }
      continue;
    }
    out += pattern[i];
    if (pattern[i] === '\\') out += pattern[++i] ?? '';
  }
  return out;
}

function stringArbitrary(schema: JsonSchema, options: Required<ArbitraryOptions>): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Number.MAX_SAFE_INTEGER;
  // zod's min/max count UTF-16 code units (String.length): so does this.
  const fits = (s: string) => s.length >= min && s.length <= max;
  if (schema.pattern !== undefined) {
    const regex = new RegExp(schema.pattern, 'u');
    const source = /\(\?[!=]/.test(schema.pattern) ? new RegExp(withoutLookarounds(schema.pattern), 'u') : regex;
    return fc.stringMatching(source).filter((s) => fits(s) && regex.test(s));
  }
  const cap = Math.min(max, Math.max(min, options.maxStringLength));
  return fc.string({ unit: stringUnit, minLength: min, maxLength: cap }).filter(fits);
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const step = integer ? 1 : Number.EPSILON;
  const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + step : -Number.MAX_SAFE_INTEGER);
  const high = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - step : Number.MAX_SAFE_INTEGER);
  if (!integer) return fc.double({ min: low, max: high, noNaN: true, noDefaultInfinity: true });
  // Mostly small (offsets and revisions that mean something in a short document), sometimes the bounds.
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: Math.max(low, -(2 ** 31)), max: Math.min(high, low + 40, 2 ** 31 - 1) }) },
    { weight: 1, arbitrary: fc.constantFrom(low, high) },
    { weight: 1, arbitrary: fc.bigInt({ min: BigInt(low), max: BigInt(high) }).map(Number) },
  );
}

/** Values valid by `schema` (a JSON Schema node of protocol/json). */
export function arbitraryOf(schema: JsonSchema, options: ArbitraryOptions = {}): fc.Arbitrary<Json> {
  const resolved: Required<ArbitraryOptions> = { maxStringLength: 40, maxItems: 4, hints: {}, ...options };
  for (const key of Object.keys(schema)) if (!KNOWN_KEYWORDS.has(key)) throw new Error(`schema-arbitrary: unsupported keyword "${key}"`);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((branch) => arbitraryOf(branch, resolved)));
  switch (schema.type) {
    case 'string':
      return stringArbitrary(schema, resolved);
    case 'integer':
    case 'number':
      return numberArbitrary(schema, schema.type === 'integer');
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? Number.MAX_SAFE_INTEGER, Math.max(minLength, resolved.maxItems));
      return fc.array(arbitraryOf(schema.items ?? {}, resolved), { minLength, maxLength });
    }
    case 'object': {
      const model = Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, sub]) => {
          const own = arbitraryOf(sub, resolved);
          const hint = Object.hasOwn(resolved.hints, key) ? resolved.hints[key] : undefined;
          return [key, hint ? fc.oneof(hint, own) : own];
        }),
      );
      return fc.record(model, { requiredKeys: schema.required ?? [] }) as fc.Arbitrary<Json>;
    }
    case undefined:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>; // `{}`: anything
  }
}

/** A client frame valid by the schemas: the envelope's fields from its schema, the payload from the event's. */
export interface GeneratedFrame {
  eventType: string;
  frame: { [key: string]: Json };
}

/**
 * Valid client frames of every client event, in the envelope. `sessionIds` stand in for the
 * envelope's free-form `session_id` most of the time, so that frames reach the handlers rather
 * than all stopping at the router's session check.
 */
export function validFrameArbitrary(
  schemas: ProtocolSchemas,
  sessionIds: string[],
  options: ArbitraryOptions = {},
): fc.Arbitrary<GeneratedFrame> {
  const { envelope } = schemas;
  const fields: Record<string, fc.Arbitrary<Json>> = Object.fromEntries(
    Object.entries(envelope.properties ?? {}).map(([name, sub]) => [name, arbitraryOf(sub, options)]),
  );
  fields.session_id = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...sessionIds) },
    { weight: 1, arbitrary: fields.session_id ?? fc.string() },
  );
  const perEvent = [...schemas.client].map(([eventType, payload]) =>
    fc
      .record<Record<string, Json>>(
        { ...fields, event_type: fc.constant(eventType), payload: arbitraryOf(payload, options) },
        { requiredKeys: envelope.required ?? [] },
      )
      .map((frame): GeneratedFrame => ({ eventType, frame: frame as GeneratedFrame['frame'] })),
  );
  return fc.oneof(...perEvent);
}
