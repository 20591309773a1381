// Credentials the way the docker CLI finds them: `$DOCKER_CONFIG/config.json` (default
// `~/.docker/config.json`): `credHelpers[registry]`, then `credsStore`, then `auths` (base64 `auth`
// or `username`/`password`). Helpers are `docker-credential-<name> get` with the server on stdin.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Anything that can answer "which credentials for this registry host?". */
export interface CredentialSource {
  get(registry: string): Promise<Credentials | undefined>;
  /** Where credentials were looked for, for error messages (no secrets). */
  describe(): string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The server name docker stores Docker Hub credentials under. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

const stripServer = (key: string): string =>
  key
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .toLowerCase();

function isHub(host: string): boolean {
  return host === DOCKER_HUB || host === 'index.docker.io' || host === 'registry-1.docker.io';
}

/** Reads `config.json` in `dir` (default: `$DOCKER_CONFIG`, else `~/.docker`) on every lookup. */
export class DockerConfigCredentials implements CredentialSource {
  constructor(private readonly dir?: string) {}

  get configPath(): string {
    return join(this.dir ?? process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  }

  describe(): string {
    return this.configPath;
  }

  private async load(): Promise<DockerConfigFile> {
    let text: string;
    try {
      text = await readFile(this.configPath, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return {};
      throw new RegistryError('ECREDENTIALS', `${this.configPath}: cannot read: ${(error as Error).message}`);
    }
    try {
      return JSON.parse(text) as DockerConfigFile;
    } catch {
      throw new RegistryError('ECREDENTIALS', `${this.configPath}: not valid JSON`);
    }
  }

  async get(registry: string): Promise<Credentials | undefined> {
    const config = await this.load();
    const host = stripServer(registry);
    const hub = isHub(host);
    const matches = (key: string) => {
      const k = stripServer(key);
      return hub ? isHub(k) : k === host;
    };
    const server = hub ? DOCKER_HUB_SERVER : registry;
    const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => matches(key))?.[1];
    if (helper) return runCredentialHelper(helper, server);
    if (config.credsStore) {
      const found = await runCredentialHelper(config.credsStore, server);
      if (found) return found;
    }
    const entries = Object.entries(config.auths ?? {});
    const entry = (entries.find(([key]) => key === server) ?? entries.find(([key]) => matches(key)))?.[1];
    if (!entry) return undefined;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0)
        throw new RegistryError(
          'ECREDENTIALS',
          `${this.configPath}: auths entry for ${registry} is not base64 user:password`,
        );
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined && entry.password !== undefined) {
      return { username: entry.username, password: entry.password };
    }
    return undefined;
  }
}

/** Fixed credentials per registry host, e.g. from a CLI flag. */
export class StaticCredentials implements CredentialSource {
  constructor(private readonly byRegistry: Record<string, Credentials>) {}
  describe(): string {
    return 'explicit credentials';
  }
  async get(registry: string): Promise<Credentials | undefined> {
    const host = stripServer(registry);
    for (const [key, creds] of Object.entries(this.byRegistry)) {
      const k = stripServer(key);
      if (k === host || (isHub(k) && isHub(host))) return creds;
    }
    return undefined;
  }
}

/** First source that knows the registry wins. */
export class ChainedCredentials implements CredentialSource {
  constructor(private readonly sources: CredentialSource[]) {}
  describe(): string {
    return this.sources.map((s) => s.describe()).join(', then ');
  }
  async get(registry: string): Promise<Credentials | undefined> {
    for (const source of this.sources) {
      const found = await source.get(registry);
      if (found) return found;
    }
    return undefined;
  }
}

/** `docker-credential-<name> get`; undefined when the helper says it has nothing for the server. */
export function runCredentialHelper(name: string, server: string): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (error) =>
      reject(
        new RegistryError('ECREDENTIALS', `credential helper ${program} could not run: ${(error as Error).message}`),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) {
        const said = (out + err).trim();
        if (/credentials not found/i.test(said)) return resolve(undefined);
        // The helper's output may echo secrets: report only its exit status.
        return reject(
          new RegistryError('ECREDENTIALS', `credential helper ${program} failed for ${server} (exit ${code})`),
        );
      }
      try {
        const json = JSON.parse(out) as { Username?: string; Secret?: string };
        if (typeof json.Username !== 'string' || typeof json.Secret !== 'string') throw new Error('shape');
        resolve({ username: json.Username, password: json.Secret });
      } catch {
        reject(
          new RegistryError(
            'ECREDENTIALS',
            `credential helper ${program} printed no {Username, Secret} JSON for ${server}`,
          ),
        );
      }
    });
    child.stdin.end(server);
  });
}
