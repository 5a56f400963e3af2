import type { ErrorCode } from '../errors';

/**
 * What a client does with its edit when the relay refuses it (an `error` naming the edit's
 * `document` and `seq`), by the refusal's code:
 * - `resend`: nothing was applied and it may go as it is later (over the message rate);
 * - `rejoin`: the relay and this copy disagree on where the document is: open it again, and the
 *   rejoin settles the edit (past the head, or the document not open on this connection);
 * - `drop`: refused for good and nothing was applied (the document would outgrow its limit, the
 *   op does not apply, the user may no longer edit): take it out of the text (`ClientDocument.refuse`);
 * - `wait`: it may or may not have been committed (Redis unreachable, a relay error): the
 *   reconnect the relay asks for afterwards settles it, by the rejoin's revision and `last_seq`.
 * Unknown codes wait: dropping an edit that was in fact committed would part this copy from the
 * relay's, while waiting only delays.
 */
export type RefusedEditAction = 'resend' | 'rejoin' | 'drop' | 'wait';

const actions: Partial<Record<ErrorCode, RefusedEditAction>> = {
  RATE_LIMITED: 'resend',
  EDIT_REV_TOO_NEW: 'rejoin',
  DOCUMENT_NOT_OPEN: 'rejoin',
  DOCUMENT_NOT_FOUND: 'rejoin',
  DOCUMENT_TOO_LARGE: 'drop',
  FRAME_TOO_LARGE: 'drop',
  VALIDATION_FAILED: 'drop',
  FORBIDDEN_ROLE: 'drop',
  OP_INVALID: 'drop',
  OP_OUT_OF_RANGE: 'drop',
  OP_DELETE_MISMATCH: 'drop',
  OP_SPLITS_SURROGATE: 'drop',
};

export function refusedEditAction(code: ErrorCode): RefusedEditAction {
  return actions[code] ?? 'wait';
}
