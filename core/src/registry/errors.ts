// One error type for the registry client, with a stable `code` callers can branch on. Every message
// is one line and names the registry (or reference) it is about; credentials never appear in it.

export type RegistryErrorCode =
  /** The image reference does not parse (bad name, tag or digest). */
  | 'EREFERENCE'
  /** A mirror specification (option or DRYDOCK_REGISTRY_MIRRORS) is malformed. */
  | 'EMIRROR'
  /** The registry asked for credentials and none were found. */
  | 'EAUTH_REQUIRED'
  /** The registry (or its token server) rejected the credentials that were sent. */
  | 'EAUTH_REJECTED'
  /** Authenticated, but not allowed (403). */
  | 'EDENIED'
  /** A credential helper or the docker config file failed. */
  | 'ECREDENTIALS'
  /** Manifest or blob not found (404). */
  | 'ENOTFOUND'
  /** Content does not hash to the digest it was announced under. */
  | 'EDIGEST'
  /** Content length differs from the announced size. */
  | 'ESIZE'
  /** The manifest is not JSON, or its media type is not one drydock handles (e.g. schema1). */
  | 'EMANIFEST'
  /** An index has no manifest for the requested platform. */
  | 'EPLATFORM'
  /** Connection failed / broke, after all retries. */
  | 'ENETWORK'
  /** Any other unexpected HTTP status. */
  | 'EHTTP';

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown; registry?: string; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.registry = options?.registry;
    this.status = options?.status;
  }
  /** The registry host (or mirror URL) the error is about, when there is one. */
  readonly registry: string | undefined;
  /** The HTTP status that caused it, when there is one. */
  readonly status: number | undefined;
}

export const isRegistryError = (error: unknown, code?: RegistryErrorCode): error is RegistryError =>
  error instanceof RegistryError && (code === undefined || error.code === code);
