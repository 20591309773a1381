import type { ImageFiles } from '../exec/paths.js';
import { CopyError } from './errors.js';

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * `--chown` as BuildKit resolves it (checked on docker 20.10): `uid` alone gives gid = uid with no
 * lookup; a user name takes uid and primary gid from the image's /etc/passwd; a group (name from
 * the image's /etc/group, or number) replaces the gid. Names are looked up in the image being
 * written, following symlinks inside it, never on the host.
 * Stricter than BuildKit 20.10, which silently uses uid 0 for an unknown user name and keeps the
 * user's gid for an unknown group name: drydock raises `unknown-user` / `unknown-group`.
 */
export async function resolveChown(files: ImageFiles, spec: string): Promise<Owner> {
  const m = /^([^:]+)(?::([^:]+))?$/.exec(spec.trim());
  if (!m) throw new CopyError('bad-chown', `invalid --chown ${JSON.stringify(spec)}: expected user[:group]`, spec);
  const [, user = '', group] = m;
  let uid: number;
  let gid: number;
  if (isId(user)) {
    uid = gid = Number(user);
  } else {
    const entry = (await table(files, '/etc/passwd', spec)).find((f) => f[0] === user);
    if (!entry || !isId(entry[2] ?? '') || !isId(entry[3] ?? '')) {
      throw new CopyError(
        'unknown-user',
        `--chown ${spec}: no user ${JSON.stringify(user)} in the image's /etc/passwd`,
        spec,
      );
    }
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (group !== undefined) {
    if (isId(group)) {
      gid = Number(group);
    } else {
      const entry = (await table(files, '/etc/group', spec)).find((f) => f[0] === group);
      if (!entry || !isId(entry[2] ?? '')) {
        throw new CopyError(
          'unknown-group',
          `--chown ${spec}: no group ${JSON.stringify(group)} in the image's /etc/group`,
          spec,
        );
      }
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

function isId(s: string): boolean {
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff;
}

async function table(files: ImageFiles, path: string, spec: string): Promise<string[][]> {
  let text: string;
  try {
    text = await files(path);
  } catch (e) {
    const code = path === '/etc/passwd' ? 'unknown-user' : 'unknown-group';
    throw new CopyError(
      code,
      `--chown ${spec}: cannot read the image's ${path} (${(e as NodeJS.ErrnoException).code})`,
      spec,
    );
  }
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}
