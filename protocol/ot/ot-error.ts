/**
 * Errors of the OT text type. Each has a stable SCREAMING_SNAKE code that callers (the relay)
 * can map to a wire error; the message says which component is wrong and why.
 */
export const otErrorCodes = {
  OP_INVALID: 'The op is not an array of components: positive integers, non-empty strings and `{d: "text"}`.',
  OP_OUT_OF_RANGE: 'A retain or delete runs past the end of the document.',
  OP_DELETE_MISMATCH: 'A delete carries text that is not the text at that place in the document.',
  OP_SPLITS_SURROGATE: 'The op would split a surrogate pair (half a character) or inserts a lone surrogate.',
} as const;

export type OtErrorCode = keyof typeof otErrorCodes;

export class OtError extends Error {
  constructor(
    readonly code: OtErrorCode,
    message: string = otErrorCodes[code],
    /** Index of the offending component in the op, when there is one. */
    readonly component?: number,
  ) {
    super(message);
    this.name = 'OtError';
  }
}
