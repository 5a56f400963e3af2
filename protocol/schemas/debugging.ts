import { z } from 'zod';
import { DocumentId, Identifier } from './common';

export const Breakpoint = z.strictObject({
  id: Identifier,
  document: DocumentId,
  /** Zero-based line, as in the VS Code API. */
  line: z.number().int().nonnegative(),
  column: z.number().int().nonnegative().optional(),
  enabled: z.boolean(),
  condition: z.string().max(1000).optional(),
  hit_condition: z.string().max(1000).optional(),
  log_message: z.string().max(1000).optional(),
});
export type Breakpoint = z.infer<typeof Breakpoint>;

export const BreakpointPayload = z.strictObject({
  action: z.enum(['add', 'remove', 'update']),
  breakpoint: Breakpoint,
});
export type BreakpointPayload = z.infer<typeof BreakpointPayload>;
