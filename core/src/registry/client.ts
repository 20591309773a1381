// RegistryClient: one object holding mirrors, insecure registries, credentials, the auth/token
// cache and retry policy; every method takes a reference string or a parsed ImageReference.

import type { Readable } from 'node:stream';
import { AuthManager } from './auth.js';
import {
  ChainedCredentials,
  DockerConfigCredentials,
  StaticCredentials,
  type CredentialSource,
  type Credentials,
} from './credentials.js';
import type { Descriptor } from './manifest.js';
import { mergeMirrors, parseMirrors, type MirrorMap } from './mirrors.js';
import {
  fetchBlob,
  fetchBlobBytes,
  fetchBlobToFile,
  resolve,
  type PullContext,
  type ResolvedImage,
  type ResolveOptions,
} from './pull.js';
import { pushBlob, pushManifest, type PushBlobOptions, type PushBlobResult, type PushContext } from './push.js';
import { parseReference, type ImageReference } from './reference.js';
import {
  mirrorEndpoint,
  registryEndpoint,
  Transport,
  type Endpoint,
  type RequestObserver,
  type RetryOptions,
} from './transport.js';

export interface RegistryClientOptions {
  /** Mirrors per registry, tried after those of DRYDOCK_REGISTRY_MIRRORS, before the registry itself. */
  mirrors?: MirrorMap;
  /** Read DRYDOCK_REGISTRY_MIRRORS (default true). */
  envMirrors?: boolean;
  /** Registries (host[:port]) reached over plain http. Loopback ones always are. */
  insecure?: string[];
  /**
   * Where credentials come from: a `CredentialSource`, or fixed credentials per registry host
   * (consulted before the docker config). Default: the docker config.
   */
  credentials?: CredentialSource | Record<string, Credentials>;
  /** Directory holding the docker `config.json` (default `$DOCKER_CONFIG`, else `~/.docker`). */
  dockerConfig?: string;
  retry?: RetryOptions;
  /** Uploads larger than this are sent in PATCH chunks of this size (default 32 MiB). */
  chunkSize?: number;
  /** Sees every HTTP exchange (method, URL without query, status); never headers or bodies. */
  onRequest?: RequestObserver;
}

type Ref = string | ImageReference;
type BlobDescriptor = Pick<Descriptor, 'digest' | 'size'>;
const toRef = (ref: Ref): ImageReference => (typeof ref === 'string' ? parseReference(ref) : ref);

export class RegistryClient {
  readonly mirrors: MirrorMap;
  readonly insecure: ReadonlySet<string>;
  readonly credentials: CredentialSource;
  private readonly transport: Transport;
  private readonly retry: RetryOptions;
  private readonly chunkSize: number;

  constructor(options: RegistryClientOptions = {}) {
    const env = options.envMirrors === false ? undefined : process.env.DRYDOCK_REGISTRY_MIRRORS;
    this.mirrors = mergeMirrors(env ? parseMirrors(env) : undefined, options.mirrors);
    this.insecure = new Set(options.insecure ?? []);
    const docker = new DockerConfigCredentials(options.dockerConfig);
    const given = options.credentials;
    this.credentials =
      given === undefined
        ? docker
        : typeof (given as CredentialSource).get === 'function'
          ? (given as CredentialSource)
          : new ChainedCredentials([new StaticCredentials(given as Record<string, Credentials>), docker]);
    this.retry = options.retry ?? {};
    this.chunkSize = options.chunkSize ?? 32 * 1024 * 1024;
    this.transport = new Transport(new AuthManager(this.credentials), this.retry, options.onRequest);
  }

  /** Where `ref` is read from, in order: its mirrors, then the registry. */
  endpoints(ref: Ref): Endpoint[] {
    const r = toRef(ref);
    const mirrors = (this.mirrors[r.registry] ?? []).map((url) => mirrorEndpoint(r.registry, url));
    return [...mirrors, registryEndpoint(r.registry, this.insecure)];
  }

  private get pull(): PullContext {
    return { transport: this.transport, retry: this.retry, endpoints: (r) => this.endpoints(r) };
  }

  private get push(): PushContext {
    return {
      transport: this.transport,
      retry: this.retry,
      chunkSize: this.chunkSize,
      endpoint: (r) => registryEndpoint(r.registry, this.insecure),
    };
  }

  /** The platform manifest of `ref` (selected from an index for `platform`, default linux/<host arch>). */
  resolve(ref: Ref, options?: ResolveOptions): Promise<ResolvedImage> {
    return resolve(this.pull, toRef(ref), options);
  }

  /** A stream of the blob's bytes; it errors (EDIGEST/ESIZE) if they do not verify. Resumes broken transfers. */
  fetchBlob(ref: Ref, descriptor: BlobDescriptor): Readable {
    return fetchBlob(this.pull, toRef(ref), descriptor);
  }

  /** The whole blob in memory, verified (for configs and manifests). */
  fetchBlobBytes(ref: Ref, descriptor: BlobDescriptor): Promise<Buffer> {
    return fetchBlobBytes(this.pull, toRef(ref), descriptor);
  }

  /** Download to `path` (via a temp file renamed into place), verified; on failure no file is left. */
  fetchBlobToFile(
    ref: Ref,
    descriptor: BlobDescriptor,
    path: string,
  ): Promise<{ digest: string; size: number; path: string }> {
    return fetchBlobToFile(this.pull, toRef(ref), descriptor, path);
  }

  pushBlob(
    ref: Ref,
    descriptor: BlobDescriptor,
    open: () => Readable,
    options?: PushBlobOptions,
  ): Promise<PushBlobResult> {
    return pushBlob(this.push, toRef(ref), descriptor, open, options);
  }

  /** PUT the manifest under `ref`'s tag (or digest); returns its digest. */
  pushManifest(ref: Ref, bytes: Buffer, mediaType: string): Promise<string> {
    return pushManifest(this.push, toRef(ref), bytes, mediaType);
  }
}
