export type {
  CommitPublication,
  CommittedOp,
  DocumentHead,
  DocumentSnapshot,
  DocumentStore,
  LastCommit,
  OldOp,
  RecoveryOrigin,
  RecoveryRecord,
} from './document-store';
export { MemoryDocumentStore } from './memory-document-store';
export { RedisDocumentStore, type RedisDocumentStoreOptions } from './redis-document-store';
export {
  DocumentAuthority,
  DocumentLostError,
  type CommitHooks,
  type CommitResult,
  type OpenRequest,
  type OpenResult,
} from './document-authority';
export { fallback, plan, replay, type RecoveryPlan, type RecoveryState, type RecoveryUpload } from './recovery';
