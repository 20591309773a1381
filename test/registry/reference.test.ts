// Pure parts of the registry client: reference normalization, mirror specs, auth challenges,
// platform selection. (Everything that talks HTTP is tested against the bench registries.)
import { describe, expect, it } from 'vitest';
import {
  formatReference,
  familiarReference,
  hostPlatform,
  isRegistryError,
  mergeMirrors,
  parseChallenge,
  parseMirrors,
  parseReference,
  RegistryError,
  selectPlatform,
  apiHost,
  isLoopback,
  MediaType,
  type ImageIndex,
} from '../../core/src/registry/index.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['busybox:1.35', { registry: 'docker.io', repository: 'library/busybox', tag: '1.35' }],
    ['library/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['docker.io/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['index.docker.io/library/busybox:1', { registry: 'docker.io', repository: 'library/busybox', tag: '1' }],
    ['someone/app', { registry: 'docker.io', repository: 'someone/app', tag: 'latest' }],
    ['ghcr.io/a/b:1', { registry: 'ghcr.io', repository: 'a/b', tag: '1' }],
    ['ghcr.io/a/b/c-d_e.f:v1.2-rc', { registry: 'ghcr.io', repository: 'a/b/c-d_e.f', tag: 'v1.2-rc' }],
    [`localhost:5000/x@${D}`, { registry: 'localhost:5000', repository: 'x', digest: D }],
    ['localhost/x', { registry: 'localhost', repository: 'x', tag: 'latest' }],
    ['127.0.0.1:5000/x:y', { registry: '127.0.0.1:5000', repository: 'x', tag: 'y' }],
    [`127.0.0.1:5000/x:y@${D}`, { registry: '127.0.0.1:5000', repository: 'x', tag: 'y', digest: D }],
    ['[::1]:5000/a/b:c', { registry: '[::1]:5000', repository: 'a/b', tag: 'c' }],
  ])('%s', (input, expected) => {
    const ref = parseReference(input);
    expect(ref).toEqual(expected);
    expect(parseReference(formatReference(ref))).toEqual(ref);
  });

  it('formats back, fully qualified and familiar', () => {
    expect(formatReference(parseReference('busybox'))).toBe('docker.io/library/busybox:latest');
    expect(familiarReference(parseReference('busybox'))).toBe('busybox:latest');
    expect(familiarReference(parseReference('ghcr.io/a/b:1'))).toBe('ghcr.io/a/b:1');
    expect(formatReference(parseReference(`localhost:5000/x@${D}`))).toBe(`localhost:5000/x@${D}`);
  });

  it.each([
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['busybox:', /malformed tag/],
    ['busybox:-x', /malformed tag/],
    ['busybox@sha256:abc', /64 lowercase hex/],
    ['busybox@nope', /malformed digest/],
    ['a//b', /malformed path component/],
    ['ghcr.io/', /malformed path component/],
    [' busybox', /whitespace/],
    ['x/' + 'a'.repeat(300), /255/],
  ])('rejects %j with a one-line EREFERENCE', (input, why) => {
    let caught: unknown;
    try {
      parseReference(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegistryError);
    expect(isRegistryError(caught, 'EREFERENCE')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toMatch(why);
    expect(message).toContain('invalid image reference');
    expect(message).not.toContain('\n');
  });
});

describe('transport rules', () => {
  it('Docker Hub API host and loopback http', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
    expect(isLoopback('localhost:5000')).toBe(true);
    expect(isLoopback('127.0.0.1:5001')).toBe(true);
    expect(isLoopback('[::1]:5000')).toBe(true);
    expect(isLoopback('ghcr.io')).toBe(false);
    expect(isLoopback('127.0.0.1.example.com')).toBe(false);
  });
});

describe('mirrors', () => {
  it('parses the env syntax, several per registry, in order', () => {
    expect(
      parseMirrors('docker.io=http://127.0.0.1:5000, ghcr.io=https://m.example/, docker.io=https://b.example/prefix/'),
    ).toEqual({
      'docker.io': ['http://127.0.0.1:5000', 'https://b.example/prefix'],
      'ghcr.io': ['https://m.example'],
    });
    expect(parseMirrors('index.docker.io=http://a.example')).toEqual({ 'docker.io': ['http://a.example'] });
    expect(parseMirrors('')).toEqual({});
  });

  it('merges env then option mirrors without duplicates', () => {
    expect(
      mergeMirrors({ 'docker.io': ['http://a.example'] }, { 'docker.io': ['http://b.example', 'http://a.example'] }),
    ).toEqual({ 'docker.io': ['http://a.example', 'http://b.example'] });
  });

  it.each(['docker.io', 'docker.io=ftp://x', 'docker.io=not a url', '=http://x'])('rejects %j', (spec) => {
    expect(() => parseMirrors(spec)).toThrow(/DRYDOCK_REGISTRY_MIRRORS: /);
    try {
      parseMirrors(spec);
    } catch (error) {
      expect(isRegistryError(error, 'EMIRROR')).toBe(true);
    }
  });
});

describe('parseChallenge', () => {
  it('reads Bearer parameters, quoted commas included', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/busybox:pull,push',
      },
    });
  });
  it('reads Basic', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
  });
});

describe('selectPlatform', () => {
  const m = (digit: string, platform: Record<string, string>) => ({
    mediaType: MediaType.OciManifest,
    digest: `sha256:${digit.repeat(64)}`,
    size: 1,
    platform: platform as never,
  });
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      m('1', { os: 'linux', architecture: 'amd64' }),
      m('2', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
      m('3', { os: 'linux', architecture: 'arm', variant: 'v6' }),
      m('4', { os: 'linux', architecture: 'arm', variant: 'v7' }),
      m('5', { os: 'unknown', architecture: 'unknown' }),
    ],
  };
  it('matches os/arch and defaults variants like docker', () => {
    expect(selectPlatform(index, { os: 'linux', architecture: 'amd64' }, 'x').digest).toMatch(/^sha256:1/);
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm64' }, 'x').digest).toMatch(/^sha256:2/);
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm' }, 'x').digest).toMatch(/^sha256:4/);
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'x').digest).toMatch(/^sha256:3/);
  });
  it('lists the available platforms when none fits', () => {
    expect(() => selectPlatform(index, { os: 'linux', architecture: 's390x' }, 'busybox')).toThrow(
      'busybox: no manifest for linux/s390x (available: linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7)',
    );
  });
  it('host platform uses OCI names', () => {
    const p = hostPlatform();
    expect(p.os).toBe('linux');
    expect(p.architecture).toBe(
      ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? p.architecture,
    );
  });
});
