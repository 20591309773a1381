/** Value formats the compiler checks, with what is allowed, for one-line diagnostics. */
import { posix } from 'node:path';

export const STAGE_NAME = /^[a-zA-Z][a-zA-Z0-9_.-]*$/;
export const IMAGE_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
export const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
export const CHMOD = /^[0-7]{3,4}$/;
export const CHECKSUM = /^sha256:[0-9a-f]{64}$/;
export const PORT = /^(\d{1,5})(-\d{1,5})?(\/(tcp|udp|sctp))?$/;
export const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
export const ENV_KEY = /^[^=\s]+$/;
/** A docker reference: [registry/]path[:tag][@digest], lowercase path. */
export const IMAGE_REF =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

export function isUrl(s: string): boolean {
  return /^https?:\/\//.test(s);
}

/** Why a build-context path is not allowed, or undefined when it is. */
export function contextPathProblem(p: string): string | undefined {
  if (p.startsWith('/')) return 'is absolute; context paths are relative to the build context';
  const norm = posix.normalize(p);
  if (norm === '..' || norm.startsWith('../')) return 'escapes the build context with ..';
  return undefined;
}

export function looksLikeImage(ref: string): boolean {
  return ref === 'scratch' || /[:/@]/.test(ref);
}
