/** An error caused by the user's input or environment: the CLI prints its message alone, no stack trace. */
export class UserError extends Error {
  /** The CLI's exit code for it: 1, unless a command gives its errors a code of their own (compare: 3). */
  readonly exitCode: number = 1;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The system's error codes a user meets reading and writing files, in words. */
const FS_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EEXIST: "it exists already",
  EINVAL: "invalid argument",
  EMFILE: "too many open files",
};

/** Why a file operation failed, in plain words ("no such file or directory", not ENOENT). */
export function fsReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return (code !== undefined && FS_REASONS[code]) || message;
}

/** An exhaustive switch's end: a case left out does not compile. */
export function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
