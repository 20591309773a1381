// Registry authentication: on 401 parse `WWW-Authenticate`; `Basic` → send the registry's basic
// credentials; `Bearer realm,service,scope` → get a token from the realm (Docker token spec, with
// basic credentials when known, anonymous otherwise), cached per endpoint and scope set.

import type { CredentialSource, Credentials } from './credentials.js';
import { RegistryError } from './errors.js';
import { describeNetworkError, type Endpoint } from './transport.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse one `WWW-Authenticate` value (`Bearer realm="…",service="…",scope="a,b"`). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2]!;
  re.lastIndex = 0;
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export const pullScope = (repository: string): string => `repository:${repository}:pull`;
export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;

const basicHeader = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
const origin = (endpoint: Endpoint) => new URL(endpoint.base).origin;

interface Token {
  header: string;
  expires: number;
}

export class AuthManager {
  /** origin → basic header, once the registry asked for Basic. */
  private readonly basic = new Map<string, string>();
  /** origin + scopes → bearer token. */
  private readonly tokens = new Map<string, Token>();
  /** origin → the user whose credentials were last sent (for error messages; never the secret). */
  private readonly users = new Map<string, string | undefined>();
  private readonly credentialCache = new Map<string, Promise<Credentials | undefined>>();

  constructor(readonly credentials: CredentialSource) {}

  private creds(endpoint: Endpoint): Promise<Credentials | undefined> {
    let found = this.credentialCache.get(endpoint.credentialHost);
    if (!found) {
      found = this.credentials.get(endpoint.credentialHost);
      this.credentialCache.set(endpoint.credentialHost, found);
      found.catch(() => this.credentialCache.delete(endpoint.credentialHost));
    }
    return found;
  }

  cachedHeader(endpoint: Endpoint, scopes: string[]): string | undefined {
    const o = origin(endpoint);
    const basic = this.basic.get(o);
    if (basic !== undefined) return basic;
    const token = this.tokens.get(`${o} ${[...scopes].sort().join(' ')}`);
    if (token && token.expires > Date.now()) return token.header;
    return undefined;
  }

  /** Prepare a header for the challenge; false when it would be the one just rejected. */
  async answerChallenge(
    endpoint: Endpoint,
    header: string | null,
    scopes: string[],
    sent: string | undefined,
  ): Promise<boolean> {
    const challenge = header === null ? undefined : parseChallenge(header);
    const o = origin(endpoint);
    if (!challenge) return false;
    const creds = await this.creds(endpoint);
    if (challenge.scheme === 'basic') {
      if (!creds) return false;
      const h = basicHeader(creds);
      if (h === sent) return false;
      this.basic.set(o, h);
      this.users.set(o, creds.username);
      return true;
    }
    if (challenge.scheme === 'bearer') {
      const realm = challenge.params.realm;
      if (!realm) return false;
      const token = await this.fetchToken(endpoint, realm, challenge.params.service, scopes, creds);
      if (token.header === sent) return false;
      this.tokens.set(`${o} ${[...scopes].sort().join(' ')}`, token);
      this.users.set(o, creds?.username);
      return true;
    }
    return false;
  }

  private async fetchToken(
    endpoint: Endpoint,
    realm: string,
    service: string | undefined,
    scopes: string[],
    creds: Credentials | undefined,
  ): Promise<Token> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError('EHTTP', `${endpoint.credentialHost}: token realm ${JSON.stringify(realm)} is not a URL`);
    }
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    if (creds) url.searchParams.set('account', creds.username);
    let res: Response;
    try {
      res = await fetch(url, { headers: creds ? { authorization: basicHeader(creds) } : {} });
    } catch (error) {
      throw new RegistryError(
        'ENETWORK',
        `${endpoint.credentialHost}: token server ${url.origin} unreachable: ${describeNetworkError(error)}`,
        { cause: error, registry: endpoint.credentialHost },
      );
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => {});
      throw creds
        ? this.rejected(endpoint, creds.username, `token server ${url.origin} answered ${res.status}`)
        : this.required(endpoint);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError(
        'EHTTP',
        `${endpoint.credentialHost}: token server ${url.origin} answered HTTP ${res.status}`,
        {
          registry: endpoint.credentialHost,
          status: res.status,
        },
      );
    }
    const json = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const token = json.token ?? json.access_token;
    if (!token) {
      throw new RegistryError('EHTTP', `${endpoint.credentialHost}: token server ${url.origin} returned no token`, {
        registry: endpoint.credentialHost,
      });
    }
    const ttl = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 60;
    // Refresh a little early so a token never expires mid-request.
    return { header: `Bearer ${token}`, expires: Date.now() + Math.max(1, ttl - 10) * 1000 };
  }

  private required(endpoint: Endpoint): RegistryError {
    return new RegistryError(
      'EAUTH_REQUIRED',
      `${endpoint.credentialHost}: authentication required and no credentials found (looked in ${this.credentials.describe()})`,
      { registry: endpoint.credentialHost, status: 401 },
    );
  }

  private rejected(endpoint: Endpoint, user: string | undefined, how = 'HTTP 401'): RegistryError {
    return new RegistryError(
      'EAUTH_REJECTED',
      `${endpoint.credentialHost}: credentials${user ? ` for user ${JSON.stringify(user)}` : ''} were rejected (${how})`,
      { registry: endpoint.credentialHost, status: 401 },
    );
  }

  /** The error for a 401 we could not (or can no longer) answer. */
  async rejection(endpoint: Endpoint, sent: string | undefined): Promise<RegistryError> {
    const o = origin(endpoint);
    const creds = await this.creds(endpoint).catch(() => undefined);
    if (!creds) return this.required(endpoint);
    if (sent === undefined && !this.users.has(o)) return this.required(endpoint);
    // A rejected header must not be reused.
    this.basic.delete(o);
    return this.rejected(endpoint, this.users.get(o) ?? creds.username);
  }
}
