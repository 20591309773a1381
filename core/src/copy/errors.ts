/**
 * Typed errors for applying COPY/ADD, so the engine can turn each into a located diagnostic (it
 * knows which node failed) without parsing messages. `subject` is the path in the image (or the
 * URL, or the --chown spec) the error is about.
 */
export type CopyErrorCode =
  /** A directory is needed where the image has a file or a symlink (BuildKit: "cannot copy to non-directory"). */
  | 'not-a-directory'
  /** A file or symlink would replace a directory (BuildKit: "cannot replace to directory … with file"). */
  | 'is-a-directory'
  /** A --chown spec that is not `user`, `uid`, `user:group` or `uid:gid`. */
  | 'bad-chown'
  /** A --chown user name missing from the image's /etc/passwd (BuildKit 20.10 silently uses 0). */
  | 'unknown-user'
  /** A --chown group name missing from the image's /etc/group (BuildKit 20.10 silently ignores it). */
  | 'unknown-group'
  /** An archive that was detected but could not be extracted. */
  | 'bad-archive'
  /** ADD <url>: the request failed or answered with a non-2xx status. */
  | 'http-error'
  /** ADD <url>: a checksum that is not `sha256:<64 hex digits>`. */
  | 'bad-checksum'
  /** ADD <url>: the downloaded content does not have the expected digest. */
  | 'checksum-mismatch'
  /** Reading a source or writing the image failed (the message names the path). */
  | 'io';

export class CopyError extends Error {
  override name = 'CopyError';
  constructor(
    readonly code: CopyErrorCode,
    message: string,
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An fs error as a CopyError naming the image path (`shown`), unless it already is one. */
export function ioError(e: unknown, what: string, shown: string): CopyError {
  if (e instanceof CopyError) return e;
  const err = e as NodeJS.ErrnoException;
  return new CopyError('io', `${what} ${shown}: ${err.code ?? err.message}`, shown, { cause: e });
}
