export type { CommittedOp, DocumentHead, DocumentSnapshot, DocumentStore, LastCommit } from './document-store';
export { MemoryDocumentStore } from './memory-document-store';
export { DocumentAuthority, type CommitResult, type OpenRequest, type OpenResult } from './document-authority';
