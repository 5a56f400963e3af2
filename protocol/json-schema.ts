import { z } from 'zod';
import { InboundEnvelope, OutboundEnvelope } from './envelope';
import { events } from './events';

/**
 * JSON Schema (draft 2020-12) for the envelope and for every event payload, per direction,
 * generated from the zod schemas so clients in other languages validate against the same rules.
 */
export function buildJsonSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    'envelope.client': z.toJSONSchema(InboundEnvelope, { io: 'input' }),
    'envelope.server': z.toJSONSchema(OutboundEnvelope),
  };
  for (const [name, spec] of Object.entries(events)) {
    if ('client' in spec) schemas[`${name}.client`] = z.toJSONSchema(spec.client, { io: 'input' });
    if ('server' in spec) schemas[`${name}.server`] = z.toJSONSchema(spec.server);
  }
  return schemas;
}
