import { z } from 'zod';
import { Identifier } from './common';

/** One chunk of a streamed AI answer; the last chunk has `done: true`. */
export const AiResponsePayload = z.strictObject({
  request_id: Identifier,
  index: z.number().int().nonnegative(),
  delta: z.string(),
  done: z.boolean(),
  model: z.string().max(200).optional(),
});
export type AiResponsePayload = z.infer<typeof AiResponsePayload>;
