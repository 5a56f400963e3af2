import fc from 'fast-check';
import { decodeClientFrame, type ErrorCode, events } from '../../protocol';
import { chatFrameOfBytes } from './socket-helpers';

/**
 * Frames a client must never get away with, each with the error the relay must answer.
 * Everything here is deterministic: the hand-written families are fixed lists, the fuzzed
 * ones come from fast-check with a fixed seed.
 */
export interface BadFrame {
  label: string;
  data: string | Buffer;
  binary?: boolean;
  code: ErrorCode;
  /** `exact`: the error's path is this; `within`: this or a field inside it; `none`: no path. */
  path?: { exact: string } | { within: string } | 'none';
  /** The event type the error must name (`payload.event_type`). */
  eventType?: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Key = string | number;

/** The relay's frame limit these frames are built around (the default, 64 KiB). */
export const FRAME_LIMIT = 64 * 1024;
const POLLUTION = { polluted: 'yes' };
export const DANGEROUS_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
];
export const WRONG_VALUES: Json[] = [42, -1, 1.5, 0, 'str', '', null, true, false, [], {}, [[1]], { x: 1 }, POLLUTION];

/** `['op', 3, 'd']` -> `payload.op[3].d` (written independently of the codec's formatter). */
function fieldPath(prefix: string, path: readonly Key[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}.${key}`), prefix);
}

const clone = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

/** Sets an own property even for keys like `__proto__` (as JSON.parse would). */
function setOwn(target: { [key: string]: Json } | Json[], key: Key, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function childOf(value: Json, key: Key): Json {
  if (Array.isArray(value) && typeof key === 'number') return value[key] ?? null;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof key === 'string') return value[key] ?? null;
  throw new Error(`no ${String(key)} in ${JSON.stringify(value)}`);
}

/** Every path to a value inside `value`, containers first. */
function pathsOf(value: Json, prefix: Key[] = []): Key[][] {
  const out: Key[][] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...pathsOf(item, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

/** A copy of `root` with the value at `path` replaced (`undefined`: deleted). */
export function withValue(root: Json, path: readonly Key[], value: Json | undefined): Json | undefined {
  if (path.length === 0) return value;
  const copy = clone(root);
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = childOf(parent, key);
  const last = path[path.length - 1]!;
  if (parent === null || typeof parent !== 'object') throw new Error('not a container');
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[String(last)];
  } else {
    setOwn(parent, last, value);
  }
  return copy;
}

const text = (value: unknown) => JSON.stringify(value);
const isJsonText = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

export const deepArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
export const deepObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Valid payloads for every event a client may send: the starting points for mutations. */
export const validPayloads: Record<string, Json> = {
  'chat.message': { content: 'hi', to: 'bob', client_message_id: 'c-1' },
  'collaboration.edit': { document: 'src/a.ts', rev: 0, client_id: 'mallory-1', seq: 0, op: [1, 'x', { d: 'y' }] },
  'collaboration.open': { document: 'src/a.ts', text: 'hello' },
  'collaboration.cursor': { document: 'src/a.ts', rev: 1, selections: [{ anchor: 0, head: 1 }] },
  'debugging.breakpoint': {
    action: 'add',
    breakpoint: {
      id: 'b1',
      document: 'src/a.ts',
      line: 1,
      column: 2,
      enabled: true,
      condition: 'x > 1',
      hit_condition: '3',
      log_message: 'hit',
    },
  },
  'debugging.stopped': {
    thread_id: 1,
    reason: 'breakpoint',
    description: 'Paused',
    location: { document: 'src/a.ts', line: 1, column: 0 },
    frames: [{ name: 'main', document: 'src/a.ts', line: 1, column: 0 }],
    total_frames: 1,
    variables: [{ name: 'i', value: '1', type: 'number' }],
  },
  'debugging.continued': { reason: 'continued', thread_id: 1 },
  'debugging.control': { request_id: 'c-1', action: 'step_over', thread_id: 1 },
  'debugging.control_result': { request_id: 'c-1', requester: 'relay-1.1', ok: true, message: 'done' },
  'system.ping': { nonce: 'n-1' },
};

function invalidJson(): BadFrame[] {
  const texts = [
    '',
    ' ',
    '\n\t',
    '{',
    '}',
    '[',
    ']',
    '{"event_type":',
    '{"event_type":"chat.message",}',
    "{'event_type':'chat.message'}",
    '{event_type:"chat.message"}',
    'undefined',
    'NaN',
    'Infinity',
    '-',
    '01',
    '1.',
    '.5',
    '+1',
    '0x10',
    '"unterminated',
    '"\\x41"',
    '"\\u00zz"',
    'nul',
    'tru',
    'True',
    'None',
    '[1,]',
    '{"a":1,}',
    '{"a" 1}',
    '{"a":1}}',
    '[[]',
    '\u0000',
    '\ufeff{}',
    '/* c */ {}',
    '{"a":1} // c',
    '{"a":1}{"a":2}',
    '{"event_type":"chat.message","payload":{"content":"hi"}',
    '"\u0001"',
    '{"a":"\t"}',
    deepArrays(10_000).slice(0, 10_000),
    deepObjects(10_000).slice(0, 50_001),
    '{"event_type":"chat.message","payload":{"content":"' + 'x'.repeat(60_000),
  ];
  return texts.map((data, i) => {
    if (isJsonText(data)) throw new Error(`invalidJson[${i}] is valid JSON`);
    return { label: `invalid JSON #${i}`, data, code: 'BAD_JSON', path: 'none' };
  });
}

function notAnObject(): BadFrame[] {
  const texts = [
    '42',
    '-0',
    '1e308',
    '-1e-308',
    '0',
    '"string"',
    '""',
    '"chat.message"',
    'null',
    'true',
    'false',
    '[]',
    text([{ event_type: 'chat.message', payload: { content: 'hi' } }]),
    deepArrays(10_000),
    text('x'.repeat(60_000)),
  ];
  return texts.map((data, i) => ({ label: `not an object #${i}`, data, code: 'VALIDATION_FAILED', path: 'none' }));
}

/** Wrong values for every envelope field, missing fields, and extra (dangerous) keys. */
function badEnvelopes(): BadFrame[] {
  const base: Json = {
    event_type: 'chat.message',
    payload: { content: 'hi' },
    timestamp: '2025-01-02T03:04:05Z',
    session_id: 's1',
    user_id: 'mallory',
  };
  const extraStrings: Record<string, Json[]> = {
    event_type: ['', 'x'.repeat(65)],
    timestamp: ['', 'yesterday', '2025-13-01T00:00:00Z', '2025-01-02', '12:00', '2025-01-02T03:04:05+25:00'],
    session_id: ['', 'has space', 'x'.repeat(129), 'ünï', 's1\n'],
    user_id: ['x'.repeat(129)],
  };
  const out: BadFrame[] = [];
  for (const field of ['event_type', 'timestamp', 'session_id', 'user_id']) {
    for (const wrong of [...WRONG_VALUES, ...(extraStrings[field] ?? [])]) {
      const data = text(withValue(base, [field], wrong));
      if (decodeClientFrame(data).ok) continue; // e.g. an empty user_id is allowed (and overwritten)
      // A well-formed unknown event: see badEventTypes.
      if (field === 'event_type' && typeof wrong === 'string' && wrong.length >= 1 && wrong.length <= 64) continue;
      out.push({
        label: `envelope ${field} = ${JSON.stringify(wrong).slice(0, 20)}`,
        data,
        code: 'VALIDATION_FAILED',
        path: { exact: field },
      });
    }
  }
  for (const field of ['event_type', 'payload']) {
    out.push({
      label: `envelope without ${field}`,
      data: text(withValue(base, [field], undefined)),
      code: 'VALIDATION_FAILED',
      path: { within: field },
    });
  }
  for (const key of ['extra', 'payload_', 'EVENT_TYPE', ...DANGEROUS_KEYS]) {
    for (const value of [POLLUTION, { prototype: POLLUTION }, 1]) {
      out.push({
        label: `envelope with key ${key}`,
        data: text(withValue(base, [key], value)),
        code: 'VALIDATION_FAILED',
        path: { exact: key },
      });
    }
  }
  return out;
}

function badEventTypes(): BadFrame[] {
  const unknown = [
    'chat',
    'collaboration',
    'system',
    'ai',
    'debugging',
    'chat.message ',
    ' chat.message',
    'CHAT.MESSAGE',
    'chat.Message',
    'chat..message',
    'chat.message.',
    'ai.ask',
    'collaboration.join',
    'session.join',
    ...DANGEROUS_KEYS,
    '__lookupGetter__',
    'x'.repeat(64),
    '\u0000',
    'chat\u200bmessage',
  ];
  const serverOnly = Object.entries(events)
    .filter(([, spec]) => !('client' in spec))
    .map(([name]) => name);
  if (!serverOnly.includes('connect') || !serverOnly.includes('error'))
    throw new Error('the catalog changed: connect/error are no longer server-only');
  const frame = (eventType: string) => text({ event_type: eventType, payload: { content: 'hi' } });
  return [
    ...unknown.map((name): BadFrame => ({
      label: `unknown event ${JSON.stringify(name.slice(0, 20))}`,
      data: frame(name),
      code: 'UNKNOWN_EVENT',
      path: { exact: 'event_type' },
      eventType: name,
    })),
    ...serverOnly.map((name): BadFrame => ({
      label: `server-only event ${name}`,
      data: frame(name),
      code: 'WRONG_DIRECTION',
      path: { exact: 'event_type' },
      eventType: name,
    })),
    ...[65, 1000, 60_000].map((n): BadFrame => ({
      label: `event_type of ${n} chars`,
      data: frame('e'.repeat(n)),
      code: 'VALIDATION_FAILED',
      path: { exact: 'event_type' },
      eventType: 'e'.repeat(Math.min(n, 128)),
    })),
  ];
}

/**
 * For every client event: each value at every level replaced by a value of the wrong type,
 * each field deleted, and an extra key added to each object. Mutations the schema happens to
 * accept (an optional field deleted, 0 where any integer goes) are left out.
 */
function badPayloads(): BadFrame[] {
  const out: BadFrame[] = [];
  for (const [eventType, payload] of Object.entries(validPayloads)) {
    const spec = events[eventType as keyof typeof events];
    if (!('client' in spec)) throw new Error(`${eventType} is not a client event`);
    if (!spec.client.safeParse(payload).success) throw new Error(`the base payload of ${eventType} is invalid`);
    const accepted = (value: Json | undefined) => spec.client.safeParse(value).success;
    const frame = (value: Json | undefined) => text({ event_type: eventType, payload: value });
    for (const path of pathsOf(payload)) {
      const at = fieldPath('payload', path);
      // A component of the op union that fails every alternative is reported at the component.
      const union = /^payload\.op\[\d+\]/.exec(at)?.[0];
      const deeperThanUnion = union !== undefined && union !== at;
      for (const wrong of WRONG_VALUES) {
        const mutated = withValue(payload, path, wrong);
        if (accepted(mutated)) continue;
        out.push({
          label: `${eventType} ${at} = ${JSON.stringify(wrong)}`,
          data: frame(mutated),
          code: 'VALIDATION_FAILED',
          path: { within: deeperThanUnion ? union : at },
        });
      }
      if (path.length > 0 && typeof path[path.length - 1] === 'string') {
        const mutated = withValue(payload, path, undefined);
        if (!accepted(mutated))
          out.push({
            label: `${eventType} without ${at}`,
            data: frame(mutated),
            code: 'VALIDATION_FAILED',
            path: deeperThanUnion ? { within: union } : { exact: at },
          });
      }
      const target = path.reduce<Json>((v, key) => childOf(v, key), payload);
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        for (const key of ['extra', ...DANGEROUS_KEYS.slice(0, 3)]) {
          const mutated = withValue(payload, [...path, key], POLLUTION);
          out.push({
            label: `${eventType} ${at} with key ${key}`,
            data: frame(mutated),
            code: 'VALIDATION_FAILED',
            path: { exact: `${at}.${key}` },
          });
        }
      }
    }
    out.push({ label: `${eventType} without payload`, data: frame(undefined), code: 'VALIDATION_FAILED', path: { within: 'payload' } });
  }
  return out;
}

/** Strings and arrays as large as the frame limit allows, and JSON nested 10,000 deep. */
function hugeAndDeep(): BadFrame[] {
  const chat = (payload: Json) => text({ event_type: 'chat.message', payload });
  const raw = (eventType: string, payloadText: string) => `{"event_type":"${eventType}","payload":${payloadText}}`;
  const frames: BadFrame[] = [
    {
      label: '60 KB chat content',
      data: chat({ content: 'x'.repeat(60_000) }),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.content' },
    },
    {
      label: '20,000 three-byte characters',
      data: chat({ content: '€'.repeat(20_000) }),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.content' },
    },
    {
      label: 'content one over the limit',
      data: chat({ content: 'x'.repeat(10_001) }),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.content' },
    },
    {
      label: '60 KB recipient',
      data: chat({ content: 'hi', to: 'b'.repeat(60_000) }),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.to' },
    },
    {
      label: '60 KB key',
      data: chat({ content: 'hi', ['k'.repeat(60_000)]: 1 }),
      code: 'VALIDATION_FAILED',
      path: { exact: `payload.${'k'.repeat(60_000)}` },
    },
    {
      label: '5,000 extra keys',
      data: chat({ content: 'hi', ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1])) }),
      code: 'VALIDATION_FAILED',
      path: { within: 'payload' },
    },
    {
      label: '60 KB document id',
      data: text({
        event_type: 'collaboration.edit',
        payload: { ...(validPayloads['collaboration.edit'] as object), document: 'd'.repeat(60_000) },
      }),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.document' },
    },
    {
      label: 'an op of 20,000 components',
      data: text({
        event_type: 'collaboration.edit',
        payload: { ...(validPayloads['collaboration.edit'] as object), op: Array(20_000).fill(1) },
      }),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.op' },
    },
    {
      label: '30,000 selections',
      data: text({ event_type: 'collaboration.cursor', payload: { document: 'd', selections: Array(30_000).fill(0) } }),
      code: 'VALIDATION_FAILED',
      path: { within: 'payload.selections' },
    },
    {
      label: '10,000-deep arrays as the payload',
      data: raw('chat.message', deepArrays(10_000)),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload' },
    },
    {
      label: '10,000-deep objects as the payload',
      data: raw('chat.message', deepObjects(10_000)),
      code: 'VALIDATION_FAILED',
      path: { within: 'payload' },
    },
    {
      label: '10,000-deep arrays as content',
      data: raw('chat.message', `{"content":${deepArrays(10_000)}}`),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.content' },
    },
    {
      label: '10,000-deep arrays as recipient',
      data: raw('chat.message', `{"content":"hi","to":${deepArrays(10_000)}}`),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.to' },
    },
    {
      label: '10,000-deep objects in an extra key',
      data: raw('chat.message', `{"content":"hi","x":${deepObjects(10_000)}}`),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.x' },
    },
    {
      label: '10,000-deep arrays in an op',
      data: raw('collaboration.edit', `{"document":"d","rev":0,"client_id":"c","seq":0,"op":[${deepArrays(10_000)}]}`),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.op[0]' },
    },
    {
      label: '10,000-deep arrays as the nonce',
      data: raw('system.ping', `{"nonce":${deepArrays(10_000)}}`),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.nonce' },
    },
    { label: '10,000-deep objects as the frame', data: deepObjects(10_000), code: 'VALIDATION_FAILED', path: { within: '' } },
    {
      label: '10,000-deep arrays as user_id',
      data: `{"event_type":"chat.message","payload":{"content":"hi"},"user_id":${deepArrays(10_000)}}`,
      code: 'VALIDATION_FAILED',
      path: { exact: 'user_id' },
    },
    {
      label: '__proto__ in a breakpoint',
      data: raw(
        'debugging.breakpoint',
        '{"action":"add","breakpoint":{"id":"b","document":"d","line":1,"enabled":true,"__proto__":{"polluted":"yes"}}}',
      ),
      code: 'VALIDATION_FAILED',
      path: { exact: 'payload.breakpoint.__proto__' },
    },
  ];
  for (const frame of frames) {
    const bytes = Buffer.byteLength(frame.data);
    if (bytes > FRAME_LIMIT) throw new Error(`${frame.label} is ${bytes} bytes, over the frame limit`);
  }
  return frames;
}

function tooLarge(): BadFrame[] {
  const chat = text({ event_type: 'chat.message', payload: { content: 'x'.repeat(FRAME_LIMIT) } });
  return [
    { label: 'a chat one byte over the limit', data: chatFrameOfBytes(FRAME_LIMIT + 1), code: 'FRAME_TOO_LARGE', path: 'none' },
    { label: 'a 64 KB chat', data: chat, code: 'FRAME_TOO_LARGE', path: 'none' },
    { label: '200 KB of junk', data: 'z'.repeat(200_000), code: 'FRAME_TOO_LARGE', path: 'none' },
    { label: '100,000-deep arrays', data: deepArrays(100_000), code: 'FRAME_TOO_LARGE', path: 'none' },
    { label: 'exactly 4x the limit', data: 'q'.repeat(4 * FRAME_LIMIT), code: 'FRAME_TOO_LARGE', path: 'none' },
  ];
}

function binaryFrames(seed: number): BadFrame[] {
  const random = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { seed, numRuns: 20 });
  const chat = Buffer.from(text({ event_type: 'chat.message', payload: { content: 'binary hi' } }));
  return [
    { label: 'empty binary', data: Buffer.alloc(0), binary: true, code: 'BINARY_NOT_SUPPORTED', path: 'none' },
    { label: 'a valid chat as binary', data: chat, binary: true, code: 'BINARY_NOT_SUPPORTED', path: 'none' },
    { label: '100 KB binary', data: Buffer.alloc(100_000, 7), binary: true, code: 'BINARY_NOT_SUPPORTED', path: 'none' },
    ...random.map((bytes, i): BadFrame => ({
      label: `random binary #${i}`,
      data: Buffer.from(bytes),
      binary: true,
      code: 'BINARY_NOT_SUPPORTED',
      path: 'none',
    })),
  ];
}

/** Well-formed frames the router refuses: another session, or an event the viewer may not send. */
function refusedByRouter(): BadFrame[] {
  return [
    ...['s2', 'S1', 'other-session'].map((session): BadFrame => ({
      label: `chat for session ${session}`,
      data: text({ event_type: 'chat.message', payload: { content: 'hi' }, session_id: session }),
      code: 'SESSION_FORBIDDEN',
      path: { exact: 'session_id' },
    })),
    {
      label: 'an edit from a viewer',
      data: text({ event_type: 'collaboration.edit', payload: validPayloads['collaboration.edit'] }),
      code: 'FORBIDDEN_ROLE',
      path: { exact: 'event_type' },
    },
    ...['debugging.breakpoint', 'debugging.stopped', 'debugging.continued', 'debugging.control', 'debugging.control_result'].map(
      (eventType): BadFrame => ({
        label: `${eventType} from a viewer`,
        data: text({ event_type: eventType, payload: validPayloads[eventType] }),
        code: 'FORBIDDEN_ROLE',
        path: { exact: 'event_type' },
      }),
    ),
  ];
}

/** The hand-written families; the hostile connection must be a viewer of session `s1`. */
export function handWrittenBadFrames(seed: number): BadFrame[] {
  return [
    ...invalidJson(),
    ...notAnObject(),
    ...badEnvelopes(),
    ...badEventTypes(),
    ...badPayloads(),
    ...hugeAndDeep(),
    ...tooLarge(),
    ...binaryFrames(seed),
    ...refusedByRouter(),
  ];
}

/**
 * Junk from fast-check (fixed seed): random text, random JSON, envelopes with random fields,
 * truncated valid frames. Only frames the codec refuses are kept; the expected error is the
 * codec's answer, so this checks that the relay answers each with exactly that.
 */
export function fuzzedBadFrames(seed: number, count: number): BadFrame[] {
  const eventName = fc.oneof(fc.constantFrom(...Object.keys(events)), fc.string({ maxLength: 70 }), fc.constantFrom(...DANGEROUS_KEYS));
  const envelope = fc
    .record(
      {
        event_type: fc.oneof(eventName, fc.jsonValue({ maxDepth: 1 })),
        payload: fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record({ content: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), to: fc.string() }, { requiredKeys: [] }),
        ),
        timestamp: fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        session_id: fc.constantFrom('s1', '', 's 1', 42),
        user_id: fc.oneof(fc.string({ maxLength: 140 }), fc.integer()),
      },
      { requiredKeys: [] },
    )
    .map((value) => text(value));
  const truncated = fc.tuple(fc.constantFrom(...Object.entries(validPayloads)), fc.nat()).map(([[eventType, payload], cut]) => {
    const full = text({ event_type: eventType, payload });
    return full.slice(0, cut % full.length);
  });
  const junk = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.json({ maxDepth: 4 }),
    envelope,
    truncated,
    fc.anything({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'undefined'),
  );
  const out: BadFrame[] = [];
  for (const [i, candidate] of fc.sample(junk, { seed, numRuns: count * 2 }).entries()) {
    if (out.length === count) break;
    // The relay sees the frame after a UTF-8 round trip (lone surrogates become U+FFFD).
    const data = Buffer.from(candidate, 'utf8').toString('utf8');
    const decoded = decodeClientFrame(data);
    if (decoded.ok) continue;
    out.push({
      label: `fuzzed #${i}: ${data.slice(0, 40)}`,
      data,
      code: decoded.error.code,
      path: decoded.error.path === undefined ? 'none' : { exact: decoded.error.path },
    });
  }
  if (out.length < count) throw new Error(`only ${out.length} fuzzed frames were bad`);
  return out;
}
