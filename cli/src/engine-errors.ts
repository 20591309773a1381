/**
 * Engine errors that are the user's to fix (a missing runc, a bad --output, an unreachable
 * registry, a secret without a value, …) print one line and exit 1; anything else is a drydock
 * bug (exit 70 with a stack). Matched by name, as a config may load its own copy of drydock.
 */
const USER_ERRORS = new Set([
  'BuildError',
  'ExportError',
  'SecretError',
  'ContextError',
  'ContextChangedError',
  'RegistryError',
  'ExecutorUnavailable',
  'StoreError',
  'CopyError',
  'RunMountError',
  'StepFailed',
]);

export function engineErrorMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return USER_ERRORS.has(error.name) || USER_ERRORS.has(error.constructor.name) ? error.message : undefined;
}
