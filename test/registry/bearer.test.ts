// Bearer tokens (Docker token spec) against a real token server: a small node http server that
// issues tokens at /token (anonymous for pull, basic credentials for push) and gates the real
// bench registry 127.0.0.1:5000 behind it, answering 401 + `WWW-Authenticate: Bearer …` without one.
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError, RegistryClient, type ResolvedImage } from '../../core/src/registry/index.js';
import { basicAuth, cleanupTempDirs, dockerConfigDir, OPEN, PASSWORD, RUN_ID, USER, rejection } from './helpers.js';

const SERVICE = 'drydock-test-registry';

interface TokenServer {
  host: string;
  /** Each token request: scopes asked, account, whether basic credentials came with it. */
  tokenRequests: { scopes: string[]; account: string | null; basic: boolean }[];
  close(): Promise<void>;
}

/** What a request to /v2/<repo>/... needs: `repository:<repo>:pull` or `...:pull,push`. */
function needed(method: string, path: string): { repo: string; action: 'pull' | 'push' } | undefined {
  const m = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(path);
  if (!m) return undefined;
  return { repo: m[1]!, action: method === 'GET' || method === 'HEAD' ? 'pull' : 'push' };
}

async function startTokenServer(): Promise<TokenServer> {
  const grants = new Map<string, Set<string>>(); // token → "repo:action"
  const state: TokenServer = { host: '', tokenRequests: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${state.host}`);
    if (url.pathname === '/token') {
      const scopes = url.searchParams.getAll('scope');
      const authz = req.headers.authorization;
      state.tokenRequests.push({ scopes, account: url.searchParams.get('account'), basic: authz !== undefined });
      const authed = authz === `Basic ${basicAuth(USER, PASSWORD)}`;
      if ((authz !== undefined && !authed) || url.searchParams.get('service') !== SERVICE) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      const granted = new Set<string>();
      for (const scope of scopes) {
        const [, repo, actions] = /^repository:(.+):([a-z,]+)$/.exec(scope) ?? [];
        for (const action of actions?.split(',') ?? []) {
          if (action === 'pull' || authed) granted.add(`${repo}:${action}`);
        }
      }
      const token = randomBytes(16).toString('hex');
      grants.set(token, granted);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
      return;
    }
    const need = needed(req.method ?? 'GET', url.pathname);
    const token = /^Bearer (\w+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = token === undefined ? undefined : grants.get(token);
    const from = url.searchParams.get('from');
    const ok =
      grant !== undefined &&
      (need === undefined || grant.has(`${need.repo}:${need.action}`)) &&
      (from === null || grant.has(`${from}:pull`));
    if (!ok) {
      const scope = need ? `repository:${need.repo}:${need.action === 'pull' ? 'pull' : 'pull,push'}` : '';
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://${state.host}/token",service="${SERVICE}"${scope ? `,scope="${scope}"` : ''}`,
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const headers = { ...req.headers, host: OPEN };
    delete headers.authorization;
    const [host, port] = OPEN.split(':') as [string, string];
    const up = request({ host, port: Number(port), method: req.method, path: req.url, headers }, (upRes) => {
      const out = { ...upRes.headers };
      // Upload locations point at the backend: rewrite them to come back through the gate.
      if (typeof out.location === 'string')
        out.location = out.location.replace(`http://${OPEN}`, `http://${state.host}`);
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

describe('bearer token auth against a real token server gating :5000', () => {
  let ts: TokenServer;
  let direct: ResolvedImage;
  beforeAll(async () => {
    ts = await startTokenServer();
    direct = await new RegistryClient({ envMirrors: false }).resolve(`${OPEN}/library/busybox:latest`);
  });
  afterAll(async () => {
    await ts.close();
    cleanupTempDirs();
  });

  it('anonymous pull gets one token for the pull scope and reuses it', async () => {
    ts.tokenRequests.length = 0;
    const client = new RegistryClient({ envMirrors: false, dockerConfig: dockerConfigDir({}) });
    const ref = `${ts.host}/library/busybox:latest`;
    const image = await client.resolve(ref);
    expect(image.digest).toBe(direct.digest);
    const config = await client.fetchBlobBytes(ref, image.manifest.config);
    expect(config.length).toBe(image.manifest.config.size);
    expect(ts.tokenRequests).toEqual([{ scopes: ['repository:library/busybox:pull'], account: null, basic: false }]);
  });

  it('push sends basic credentials to the token server for pull,push; a mount asks pull on the source too', async () => {
    ts.tokenRequests.length = 0;
    const client = new RegistryClient({
      envMirrors: false,
      dockerConfig: dockerConfigDir({ auths: { [ts.host]: { auth: basicAuth(USER, PASSWORD) } } }),
    });
    const repo = `drydock-test/bearer-${RUN_ID}`;
    const target = `${ts.host}/${repo}:v1`;
    const layer = direct.manifest.layers[0]!;
    const config = direct.manifest.config;
    const src = new RegistryClient({ envMirrors: false });
    const mounted = await client.pushBlob(target, layer, () => src.fetchBlob(`${OPEN}/library/busybox`, layer), {
      mountFrom: 'library/busybox',
    });
    expect(mounted.outcome).toBe('mounted');
    const uploaded = await client.pushBlob(target, config, () => src.fetchBlob(`${OPEN}/library/busybox`, config));
    expect(uploaded.outcome).toBe('uploaded');
    expect(await client.pushManifest(target, direct.manifestBytes, direct.mediaType)).toBe(direct.digest);
    expect((await client.resolve(target)).digest).toBe(direct.digest);
    expect(ts.tokenRequests.every((r) => r.basic && r.account === USER)).toBe(true);
    expect(ts.tokenRequests.map((r) => r.scopes)).toContainEqual([
      `repository:${repo}:pull,push`,
      'repository:library/busybox:pull',
    ]);
    expect(ts.tokenRequests.map((r) => r.scopes)).toContainEqual([`repository:${repo}:pull,push`]);
  });

  it('credentials the token server rejects are a one-line EAUTH_REJECTED naming the registry', async () => {
    const client = new RegistryClient({
      envMirrors: false,
      dockerConfig: dockerConfigDir({ auths: { [ts.host]: { username: USER, password: 'not-the-pw' } } }),
    });
    const error = await rejection(client.resolve(`${ts.host}/library/busybox:latest`));
    expect(isRegistryError(error, 'EAUTH_REJECTED')).toBe(true);
    expect(error.message).toBe(
      `${ts.host}: credentials for user "drydock" were rejected (token server http://${ts.host} answered 401)`,
    );
    expect(error.message).not.toContain('not-the-pw');
  });

  it('an anonymous token without push rights ends in a clear error, not a loop', async () => {
    const client = new RegistryClient({ envMirrors: false, dockerConfig: dockerConfigDir({}) });
    const error = await rejection(
      client.pushManifest(`${ts.host}/drydock-test/anon-${RUN_ID}:v1`, direct.manifestBytes, direct.mediaType),
    );
    expect(isRegistryError(error, 'EAUTH_REQUIRED')).toBe(true);
    expect(error.message).toContain(`${ts.host}: authentication required and no credentials found`);
  });
});
