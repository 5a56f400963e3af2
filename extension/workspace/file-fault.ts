/**
 * A file operation's failure as it travels: a `vscode.FileSystemError` kind and a message that
 * names the shared path only (never the host's absolute path, nor what an excluded file holds).
 */
import type { FileError, FileErrorCode } from '../../protocol';

export class FileFault extends Error {
  override name = 'FileFault';
  constructor(
    readonly code: FileErrorCode,
    message: string,
  ) {
    super(message);
  }

  static notFound(path: string): FileFault {
    return new FileFault('FileNotFound', `${shown(path)}: no such file or folder`);
  }
  static notShared(path: string): FileFault {
    return new FileFault('NoPermissions', `${shown(path)}: not shared by the host`);
  }
  static readOnly(path: string): FileFault {
    return new FileFault('NoPermissions', `${shown(path)}: read-only for guests (tandem.readOnlyForGuests)`);
  }
  static exists(path: string): FileFault {
    return new FileFault('FileExists', `${shown(path)}: already exists`);
  }
}

const CODES = new Set<string>(['FileNotFound', 'FileExists', 'FileNotADirectory', 'FileIsADirectory', 'NoPermissions', 'Unavailable']);
const NODE_CODES: Record<string, FileErrorCode> = {
  ENOENT: 'FileNotFound',
  ENOTDIR: 'FileNotADirectory',
  EISDIR: 'FileIsADirectory',
  EEXIST: 'FileExists',
  ENOTEMPTY: 'NoPermissions',
  EACCES: 'NoPermissions',
  EPERM: 'NoPermissions',
  EROFS: 'NoPermissions',
};
const MESSAGES: Record<FileErrorCode, string> = {
  FileNotFound: 'no such file or folder',
  FileExists: 'already exists',
  FileNotADirectory: 'not a folder',
  FileIsADirectory: 'is a folder',
  NoPermissions: 'not allowed on the host',
  Unavailable: 'the host could not do it',
};

/** Any error of a file operation on `path` as a wire error. */
export function toFileError(error: unknown, path: string): FileError {
  if (error instanceof FileFault) return { code: error.code, message: error.message };
  // vscode.FileSystemError carries its kind in `code`; Node's errors an errno name.
  const code = (error as { code?: unknown } | undefined)?.code;
  const kind: FileErrorCode =
    typeof code === 'string' ? (CODES.has(code) ? (code as FileErrorCode) : (NODE_CODES[code] ?? 'Unavailable')) : 'Unavailable';
  return { code: kind, message: `${shown(path)}: ${MESSAGES[kind]}` };
}

function shown(path: string): string {
  return path === '' ? 'the shared folder' : path;
}
