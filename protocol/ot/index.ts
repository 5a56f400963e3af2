export { textType, type OtType, type TextType } from './text-type';
export { OtError, otErrorCodes, type OtErrorCode } from './ot-error';
export type { Side } from './transform';
export type { SelectionRange } from './cursor';
export type { TextOpComponent } from './text-op';
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
export { textHash } from './text-hash';
