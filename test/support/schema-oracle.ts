/**
 * What the relay must do with a frame, decided without the relay's code: the wire rules (socket
 * limit, UTF-8, binary, frame limit, JSON) in the gateway's order, then the JSON Schemas of
 * protocol/json through Ajv, an independent validator. A fuzz test compares the relay's answers
 * with this, and the relay's codec (zod) with this, so a schema export that drifts from the zod
 * schemas shows up too.
 */
import { Ajv2020 } from 'ajv/dist/2020';
import type { ErrorCode } from '../../protocol';
import type { ProtocolSchemas } from './schema-arbitrary';
import type { MutationLimits, WireFrame } from './schema-mutations';

export type Verdict =
  /** Valid: the relay handles it (it may still answer a domain error, never a codec one). */
  | { kind: 'accept'; eventType: string }
  /** Answered by exactly one `error` with this code, and nothing else happens. */
  | { kind: 'refuse'; code: ErrorCode; reason: string }
  /** The socket is closed with this code (RFC 6455: 1009 too big, 1007 not UTF-8). */
  | { kind: 'close'; code: 1007 | 1009 };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class SchemaOracle {
  private readonly envelope;
  private readonly payloads = new Map<string, ReturnType<Ajv2020['compile']>>();

  constructor(
    private readonly schemas: ProtocolSchemas,
    private readonly limits: MutationLimits,
  ) {
    const ajv = new Ajv2020({ strict: true, allErrors: false });
    this.envelope = ajv.compile(schemas.envelope);
    for (const [name, schema] of schemas.client) this.payloads.set(name, ajv.compile(schema));
  }

  judge(frame: WireFrame): Verdict {
    const bytes = typeof frame.data === 'string' ? Buffer.from(frame.data) : frame.data;
    if (bytes.length > this.limits.hardFrameBytes) return { kind: 'close', code: 1009 };
    if (frame.binary) return { kind: 'refuse', code: 'BINARY_NOT_SUPPORTED', reason: 'binary' };
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return { kind: 'close', code: 1007 };
    }
    if (bytes.length > this.limits.frameBytes) return { kind: 'refuse', code: 'FRAME_TOO_LARGE', reason: `${bytes.length} bytes` };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'refuse', code: 'BAD_JSON', reason: 'not JSON' };
    }
    if (!this.envelope(value)) return { kind: 'refuse', code: 'VALIDATION_FAILED', reason: `envelope: ${describe(this.envelope.errors)}` };
    const { event_type: eventType, payload } = value as { event_type: string; payload: unknown };
    const validate = this.payloads.get(eventType);
    if (!validate) {
      const serverOnly = this.schemas.serverOnly.includes(eventType);
      return { kind: 'refuse', code: serverOnly ? 'WRONG_DIRECTION' : 'UNKNOWN_EVENT', reason: eventType };
    }
    if (!validate(payload)) return { kind: 'refuse', code: 'VALIDATION_FAILED', reason: `payload: ${describe(validate.errors)}` };
    return { kind: 'accept', eventType };
  }
}

function describe(errors: ReadonlyArray<{ instancePath: string; message?: string }> | null | undefined): string {
  const first = errors?.[0];
  return first ? `${first.instancePath || '/'} ${first.message ?? ''}` : 'invalid';
}
