// One error type for delivering images (push, load, output specs), with a stable `code` callers can
// branch on. Registry failures during a push stay RegistryErrors: they already name the registry.

export type ExportErrorCode =
  /** An `--output` value does not parse: unknown type or key, missing or empty value. */
  | 'EOUTPUT'
  /** A tag or push reference is not a valid image name. */
  | 'ETAG'
  /** Neither docker nor podman (or the given binary) can be found or run. */
  | 'ENOENGINE'
  /** The CLI runs but cannot reach its daemon / service. */
  | 'EDAEMON'
  /** `docker load` / `podman load` (or the tag lookup after it) failed for another reason. */
  | 'ELOAD';

export class ExportError extends Error {
  override readonly name = 'ExportError';
  /** The engine CLI's stderr, trimmed, when the error comes from one. */
  readonly stderr: string | undefined;
  /** The binary that was run (or looked for). */
  readonly binary: string | undefined;
  constructor(
    readonly code: ExportErrorCode,
    message: string,
    options: { cause?: unknown; stderr?: string; binary?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.stderr = options.stderr;
    this.binary = options.binary;
  }
}

export const isExportError = (error: unknown, code?: ExportErrorCode): error is ExportError =>
  error instanceof ExportError && (code === undefined || error.code === code);
