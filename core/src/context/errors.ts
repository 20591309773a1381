/**
 * Typed errors for context selection, so the engine can turn each into a located diagnostic
 * (it knows which COPY node failed) without parsing messages.
 */
export type ContextErrorCode =
  | 'bad-pattern'
  | 'source-not-found'
  | 'source-outside-context'
  | 'symlink-escape'
  | 'multiple-sources-need-dir-dest'
  | 'not-a-directory';

export class ContextError extends Error {
  override name = 'ContextError';
  constructor(
    readonly code: ContextErrorCode,
    message: string,
    /** The source or pattern as written. */
    readonly subject: string,
  ) {
    super(message);
  }
}

/**
 * The context changed while the build read it: a selected file was removed, or stopped being a
 * regular file, between the walk that listed it and the read of its content, or the files differ
 * from what an earlier check of the build vouched for. The context re-lists a removed path and
 * selects again (engine/contexts.ts); a context that keeps changing fails the build.
 */
export class ContextChangedError extends Error {
  override name = 'ContextChangedError';
  constructor(
    /** The context directory. */
    readonly dir: string,
    /** Context-relative path of the entry that changed, when one is known. */
    readonly path: string | undefined,
    readonly why: string,
  ) {
    super(`the build context ${dir} changed while the build read it: ${path === undefined ? why : `${path} ${why}`}`);
  }
}
