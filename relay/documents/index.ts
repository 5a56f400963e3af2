export type { CommitPublication, CommittedOp, DocumentHead, DocumentSnapshot, DocumentStore, LastCommit } from './document-store';
export { MemoryDocumentStore } from './memory-document-store';
export { RedisDocumentStore, type RedisDocumentStoreOptions } from './redis-document-store';
export { DocumentAuthority, type CommitHooks, type CommitResult, type OpenRequest, type OpenResult } from './document-authority';
