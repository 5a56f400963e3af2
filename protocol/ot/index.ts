export { textType, type OtType, type TextType } from './text-type';
export { OtError, otErrorCodes, type OtErrorCode } from './ot-error';
export { compose, transform, type Side } from './transform';
export { transformCursor, type SelectionRange } from './cursor';
export { apply } from './apply';
export {
  appendDelete,
  appendInsert,
  appendRetain,
  invert,
  isNoop,
  normalize,
  scanOp,
  splitsPair,
  trim,
  type TextOp,
  type TextOpComponent,
} from './text-op';
export { TextDocument } from './text-document';
export {
  ClientDocument,
  SyncError,
  syncErrorCodes,
  diff as textDiff,
  type ClientState,
  type ClientDocumentOptions,
  type OutgoingEdit,
  type RejoinState,
  type ResetSnapshot,
  type ResyncResult,
  type SyncErrorCode,
} from './client-document';
export { diffOp } from './diff';
export { rebaseByText, type TextRebase } from './rebase-by-text';
export { textHash } from './text-hash';
export { splitOp, MIN_SPLIT_BYTES } from './split-op';
