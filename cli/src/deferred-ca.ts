/**
 * The certificates of NODE_EXTRA_CA_CERTS, loaded when first needed instead of at start-up.
 *
 * Node parses that file, and its whole bundled root store with it, before it runs any script:
 * ~40 ms for a system bundle, paid by every command although most open no TLS connection. The
 * launcher (bin/drydock) therefore hands the file over in DRYDOCK_DEFERRED_CA_CERTS, and this
 * module trusts it from the first TLS connection on, as Node would have (the bundled roots plus the
 * file's), for every fetch() of the process: drydock's registry and ADD clients make all its TLS
 * connections that way (a config runs synchronously and cannot wait on one). Processes drydock
 * starts (credential helpers, docker) get the variable back as it was.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import tls from 'node:tls';
import type { Dispatcher, buildConnector } from 'undici';

export const HANDOFF = 'DRYDOCK_DEFERRED_CA_CERTS';
// Where undici, Node's own fetch included, looks up the dispatcher that fetch() uses by default.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** Takes the handed-over file out of `env`, puts NODE_EXTRA_CA_CERTS back, and installs the trust. */
export function trustDeferredCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[HANDOFF];
  delete env[HANDOFF];
  if (!file) return;
  env.NODE_EXTRA_CA_CERTS = file;
  let context: tls.SecureContext | undefined;
  const secureContext = (): tls.SecureContext =>
    (context ??= tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCerts(file)] }));
  Object.defineProperty(globalThis, GLOBAL_DISPATCHER, {
    value: lazyDispatcher(secureContext),
    writable: true,
    enumerable: false,
    configurable: false,
  });
}

/** The file's certificates; like Node, a file that cannot be read is a warning, not an error. */
function extraCerts(file: string): string[] {
  try {
    return [readFileSync(file, 'utf8')];
  } catch (error) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(error as Error).message}`);
    return [];
  }
}

/**
 * A dispatcher that loads undici's Agent on first use (a build that pulls nothing never does),
 * and builds the secure context only for the first https: origin.
 */
function lazyDispatcher(secureContext: () => tls.SecureContext): Pick<Dispatcher, 'dispatch' | 'close' | 'destroy'> {
  let agent: Dispatcher | undefined;
  const real = (): Dispatcher => {
    if (agent) return agent;
    const undici = createRequire(import.meta.url)('undici') as typeof import('undici');
    const plain = undici.buildConnector({});
    let secure: buildConnector.connector | undefined;
    agent = new undici.Agent({
      connect: (options, callback) => {
        const connect =
          options.protocol === 'https:'
            ? (secure ??= undici.buildConnector({ secureContext: secureContext() }))
            : plain;
        connect(options, callback);
      },
    });
    return agent;
  };
  return {
    dispatch: (options, handler) => real().dispatch(options, handler),
    close: ((...args: Parameters<Dispatcher['close']>) => real().close(...args)) as Dispatcher['close'],
    destroy: ((...args: Parameters<Dispatcher['destroy']>) => real().destroy(...args)) as Dispatcher['destroy'],
  };
}
