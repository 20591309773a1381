// One error type for the store, with a stable `code` callers can branch on (the engine turns some of
// them into diagnostics; EDIGEST in particular means "fetch it again", not "give up").

export type StoreErrorCode =
  /** Content does not hash to the digest it was stored or announced under. */
  | 'EDIGEST'
  /** Content length differs from the announced size. */
  | 'ESIZE'
  /** A digest, id, key or lock name is malformed (would escape the store or is not sha256). */
  | 'EINVAL'
  /** The blob or snapshot asked for is not in the store. */
  | 'ENOTFOUND'
  /** A lock this process held was lost (its lock dir vanished or could not be refreshed in time). */
  | 'ELOCKLOST'
  /** The operation would deadlock against a lock this same Store holds (prune inside withBuild). */
  | 'EBUSY';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isStoreError = (error: unknown, code?: StoreErrorCode): error is StoreError =>
  error instanceof StoreError && (code === undefined || error.code === code);

/** True for a Node system error with the given code (ENOENT, EEXIST, …). */
export const hasErrno = (error: unknown, ...codes: string[]): boolean =>
  typeof error === 'object' &&
  error !== null &&
  'code' in error &&
  typeof error.code === 'string' &&
  codes.includes(error.code);
