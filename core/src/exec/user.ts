import type { ImageFiles } from './paths.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home?: string;
}

/**
 * USER as Docker reads it: `name`, `uid`, `name:group`, `uid:gid`, resolved in the image's own
 * /etc/passwd and /etc/group (never the host's). A numeric uid missing from passwd runs with gid 0;
 * a name missing from it is an error, as with docker.
 */
export async function resolveUser(files: ImageFiles, spec: string): Promise<ResolvedUser> {
  const [userPart = '', groupPart] = (spec || 'root').split(':', 2);
  const passwd = await table(files, '/etc/passwd');
  const groups = await table(files, '/etc/group');
  const entry =
    passwd.find((f) => f[0] === userPart) ?? (isNumber(userPart) ? passwd.find((f) => f[2] === userPart) : undefined);
  if (!entry && !isNumber(userPart)) {
    throw new Error(`unable to find user ${userPart}: no matching entries in the image's /etc/passwd`);
  }
  const uid = entry ? Number(entry[2]) : Number(userPart);
  let gid = entry ? Number(entry[3]) : 0;
  if (groupPart !== undefined) {
    const group =
      groups.find((f) => f[0] === groupPart) ??
      (isNumber(groupPart) ? groups.find((f) => f[2] === groupPart) : undefined);
    if (!group && !isNumber(groupPart)) {
      throw new Error(`unable to find group ${groupPart}: no matching entries in the image's /etc/group`);
    }
    gid = group ? Number(group[2]) : Number(groupPart);
  }
  const name = entry?.[0];
  const additionalGids =
    groupPart === undefined && name !== undefined
      ? groups
          .filter((f) => (f[3] ?? '').split(',').includes(name))
          .map((f) => Number(f[2]))
          .filter((g) => g !== gid)
      : [];
  return { uid, gid, additionalGids, ...(entry?.[5] ? { home: entry[5] } : {}) };
}

function isNumber(s: string): boolean {
  return /^\d+$/.test(s);
}

async function table(files: ImageFiles, path: string): Promise<string[][]> {
  const text = await files(path).catch(() => '');
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}
