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
