// Public API of the registry client (Distribution API v2). See ARCHITECTURE.md, engine leaves.
export { RegistryClient, type RegistryClientOptions } from './client.js';
export { RegistryError, isRegistryError, type RegistryErrorCode } from './errors.js';
export {
  parseReference,
  formatReference,
  familiarReference,
  withDigest,
  DOCKER_HUB,
  type ImageReference,
} from './reference.js';
export {
  MediaType,
  MANIFEST_ACCEPT,
  hostPlatform,
  parsePlatform,
  formatPlatform,
  selectPlatform,
  parseManifest,
  type Platform,
  type Descriptor,
  type ImageManifest,
  type ImageIndex,
} from './manifest.js';
export { parseMirrors, mergeMirrors, type MirrorMap } from './mirrors.js';
export {
  DockerConfigCredentials,
  StaticCredentials,
  ChainedCredentials,
  runCredentialHelper,
  DOCKER_HUB_SERVER,
  type Credentials,
  type CredentialSource,
} from './credentials.js';
export { parseChallenge, type Challenge } from './auth.js';
export { apiHost, isLoopback, type Endpoint, type RetryOptions, type RequestObserver } from './transport.js';
export type { ResolvedImage, ResolveOptions } from './pull.js';
export type { PushBlobOptions, PushBlobResult } from './push.js';
