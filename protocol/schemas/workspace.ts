import { z } from 'zod';
import { ConnectionId, Identifier } from './common';

/**
 * The host's shared folder, served to guests over the relay: a guest's `workspace.request` goes
 * to the host's connection with the `requester` added, and the host's `workspace.response` comes
 * back to that connection only. Large contents travel in chunks, each one request/response pair:
 * a reader pulls chunk after chunk of one snapshot (same `request_id`, `chunk` 1, 2, ...), a writer
 * pushes them and the host acknowledges each one, so nobody ever sends faster than the other side
 * takes, and no frame exceeds the relay's frame limit (`limits.max_frame_bytes` of `connect`).
 */

/**
 * A path inside the shared folder: `/`-separated segments, relative, `''` for the folder itself.
 * No `.` or `..` segment, no empty segment, no backslash or NUL: the relay refuses a path that
 * could name something outside the folder on any operating system, and the host checks again.
 */
export const WorkspacePath = z
  .string()
  .max(4096)
  // In the pattern itself (not a refinement) so that the JSON Schema export says it too.
  .regex(
    // eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
    /^(?:(?!\.\.?(?:\/|$))[^/\\\u0000]+(?:\/(?!\.\.?(?:\/|$))[^/\\\u0000]+)*)?$/u,
    'must be a relative path of `/`-separated names (no `.` or `..`, no empty name, no backslash or NUL)',
  );

/** A request's id, chosen by the requester; with `chunk` it matches a response to its request. */
export const RequestId = Identifier;

/** Base64 (standard alphabet, padded): file bytes are not text. The frame limit bounds its size. */
export const Base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64');

/** Which piece of a chunked transfer a frame is; 0 (the default) is the first. */
export const ChunkIndex = z.number().int().nonnegative().max(1_000_000);

export const WorkspaceOp = z.enum([
  'stat',
  'readDirectory',
  'readFile',
  'writeFile',
  'createDirectory',
  'delete',
  'rename',
  'findFiles',
  'search',
]);
export type WorkspaceOp = z.infer<typeof WorkspaceOp>;

/** What the operations may do to the host's folder; viewers may only read (and search). */
export const READ_ONLY_WORKSPACE_OPS: readonly WorkspaceOp[] = ['stat', 'readDirectory', 'readFile', 'findFiles', 'search'];

/** The most paths a `findFiles` answer lists, and the most matches a `search` answer holds (all pieces together). */
export const WORKSPACE_SEARCH_LIMITS = { files: 10_000, matches: 2_000 } as const;

/** A glob of VS Code's syntax, relative to the shared folder (`src/**\/*.ts`). */
const SearchGlob = z.string().min(1).max(512);

/** What `search` looks for: a text or a regular expression (ripgrep's syntax: no backtracking), in some files. */
export const SearchQuery = z.strictObject({
  pattern: z.string().min(1).max(1000),
  regex: z.boolean(),
  case_sensitive: z.boolean(),
  /** Only files matching one of these (all shared files when absent). */
  include: z.array(SearchGlob).max(20).optional(),
  /** Never files matching one of these (besides what the host never shares). */
  exclude: z.array(SearchGlob).max(20).optional(),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** The operations of a `vscode.FileSystemProvider`, with their arguments. */
function requestVariants<Extra extends z.ZodRawShape>(extra: Extra) {
  const variant = <Op extends WorkspaceOp, Shape extends z.ZodRawShape>(op: Op, shape: Shape) =>
    z.strictObject({ request_id: RequestId, op: z.literal(op), path: WorkspacePath, ...shape, ...extra });
  return z.discriminatedUnion('op', [
    variant('stat', {}),
    /** `chunk` > 0: the next piece of the listing this `request_id` started. */
    variant('readDirectory', { chunk: ChunkIndex.optional() }),
    /** `chunk` > 0: the next piece of the content this `request_id` started (one snapshot). */
    variant('readFile', { chunk: ChunkIndex.optional() }),
    /**
     * One piece of the new content; the host writes the file when it has every piece up to the
     * one with `done: true`. `create` and `overwrite` are `vscode.FileSystemProvider.writeFile`'s.
     */
    variant('writeFile', { content: Base64, chunk: ChunkIndex, done: z.boolean(), create: z.boolean(), overwrite: z.boolean() }),
    variant('createDirectory', {}),
    variant('delete', { recursive: z.boolean() }),
    variant('rename', { to: WorkspacePath, overwrite: z.boolean() }),
    /** Every shared file below `path` (its pieces pulled like a listing's): for Go to Shared File. */
    variant('findFiles', { chunk: ChunkIndex.optional() }),
    /** Text in the shared files below `path` (its pieces pulled like a listing's): for Find in Shared Folder. */
    variant('search', { query: SearchQuery, chunk: ChunkIndex.optional() }),
  ]);
}

/** From a guest (any role; viewers only stat, readDirectory and readFile). */
export const WorkspaceRequestIn = requestVariants({});
export type WorkspaceRequestIn = z.infer<typeof WorkspaceRequestIn>;

/** To the host: the request with the connection that asked, which the response must name. */
export const WorkspaceRequestOut = requestVariants({ requester: ConnectionId });
export type WorkspaceRequestOut = z.infer<typeof WorkspaceRequestOut>;

export const FileKind = z.enum(['file', 'directory', 'unknown']);
export type FileKind = z.infer<typeof FileKind>;

/** A name inside a directory (one path segment). */
const EntryName = z
  .string()
  .min(1)
  .max(255)
  // eslint-disable-next-line no-control-regex -- NUL is exactly what must be refused
  .regex(/^(?!\.\.?$)[^/\\\u0000]+$/u, 'must be a name (not `.` or `..`, no `/`, backslash or NUL)');

export const StatResult = z.strictObject({
  kind: z.literal('stat'),
  type: FileKind,
  /** A symbolic link (inside the folder); `type` is what it points to. */
  symlink: z.boolean().optional(),
  size: z.number().int().nonnegative(),
  /** Milliseconds since the epoch, as `vscode.FileStat`. */
  ctime: z.number().nonnegative(),
  mtime: z.number().nonnegative(),
  /** The host cannot write it (or the guest may not). */
  readonly: z.boolean().optional(),
  /** For the folder itself (`path: ''`): its name on the host, to name it on the guest's side. */
  name: z.string().min(1).max(255).optional(),
});

export const DirectoryResult = z.strictObject({
  kind: z.literal('directory'),
  entries: z.array(z.strictObject({ name: EntryName, type: FileKind, symlink: z.boolean().optional() })).max(10_000),
  /** How many pieces the listing has; pull pieces 1.. with the same `request_id`. */
  chunks: z.number().int().positive(),
});

export const ContentResult = z.strictObject({
  kind: z.literal('content'),
  /** This piece of the file's bytes. */
  content: Base64,
  /** The whole file's size in bytes. */
  size: z.number().int().nonnegative(),
  /** How many pieces the content has; pull pieces 1.. with the same `request_id`. */
  chunks: z.number().int().positive(),
});

/** Shared files, one piece of the list; `incomplete`: there were more than `WORKSPACE_SEARCH_LIMITS.files`. */
export const FilesResult = z.strictObject({
  kind: z.literal('files'),
  paths: z.array(WorkspacePath).max(WORKSPACE_SEARCH_LIMITS.files),
  chunks: z.number().int().positive(),
  incomplete: z.boolean(),
});

/** A line that matches: where (zero-based line, UTF-16 column and length) and the line's text (cut). */
export const SearchMatch = z.strictObject({
  path: WorkspacePath,
  line: z.number().int().nonnegative(),
  character: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  preview: z.string().max(1000),
});
export type SearchMatch = z.infer<typeof SearchMatch>;

/** Matches, one piece of them; `incomplete`: the search stopped at `WORKSPACE_SEARCH_LIMITS.matches` (or its time limit). */
export const MatchesResult = z.strictObject({
  kind: z.literal('matches'),
  matches: z.array(SearchMatch).max(WORKSPACE_SEARCH_LIMITS.matches),
  chunks: z.number().int().positive(),
  incomplete: z.boolean(),
});

/** The operation (or, for a `writeFile` piece that is not the last, that piece) succeeded. */
export const DoneResult = z.strictObject({ kind: z.literal('done') });

export const WorkspaceResult = z.discriminatedUnion('kind', [
  StatResult,
  DirectoryResult,
  ContentResult,
  DoneResult,
  FilesResult,
  MatchesResult,
]);
export type WorkspaceResult = z.infer<typeof WorkspaceResult>;

/** `vscode.FileSystemError`'s kinds: the guest throws the same error the host's file system did. */
export const FileErrorCode = z.enum([
  'FileNotFound',
  'FileExists',
  'FileNotADirectory',
  'FileIsADirectory',
  'NoPermissions',
  'Unavailable',
]);
export type FileErrorCode = z.infer<typeof FileErrorCode>;

export const FileError = z.strictObject({ code: FileErrorCode, message: z.string().max(2000) });
export type FileError = z.infer<typeof FileError>;

const responseHead = {
  request_id: RequestId,
  /** The connection that asked (`requester` of the request): the relay delivers it there only. */
  requester: ConnectionId,
  /** The piece of the request this answers (0 when absent). */
  chunk: ChunkIndex.optional(),
};

/** From the host, and as delivered to the requester. */
export const WorkspaceResponse = z.discriminatedUnion('ok', [
  z.strictObject({ ...responseHead, ok: z.literal(true), result: WorkspaceResult }),
  z.strictObject({ ...responseHead, ok: z.literal(false), error: FileError }),
]);
export type WorkspaceResponse = z.infer<typeof WorkspaceResponse>;

export const FileChangeType = z.enum(['created', 'changed', 'deleted']);
export type FileChangeType = z.infer<typeof FileChangeType>;

/** Changes in the host's folder (what `onDidChangeFile` reports); excluded paths never appear. */
export const WorkspaceChangedPayload = z.strictObject({
  changes: z
    .array(z.strictObject({ type: FileChangeType, path: WorkspacePath }))
    .min(1)
    .max(1000),
});
export type WorkspaceChangedPayload = z.infer<typeof WorkspaceChangedPayload>;
