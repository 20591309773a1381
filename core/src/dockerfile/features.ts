/**
 * Dockerfile features the frontend built into docker 20.10 lacks, so that a Dockerfile using them
 * needs `# syntax=docker/dockerfile:1` (which makes BuildKit pull a newer frontend image).
 *
 * Measured on the test bench (Debian bookworm docker.io 20.10.24, BuildKit with its built-in
 * dockerfile frontend 1.2): a one-instruction Dockerfile per feature, built with
 * `DOCKER_BUILDKIT=1 /usr/bin/docker build` and no `# syntax=` line, with the result inspected.
 * "since" is the first stable docker/dockerfile release with the feature, from BuildKit's release
 * notes and tags. A newer frontend cannot be pulled offline; one built from BuildKit's
 * dockerfile/1.4.3 source and loaded into dockerd confirmed on docker 20.10 that the emitter's
 * heredocs (with mounts, nested heredocs, comment lines), COPY/ADD --link, RUN --network=none and
 * expanded/quoted mount options work once the syntax line is there, and that tmpfs `size=` then
 * still fails: docker 20.10's BuildKit daemon lacks it ("exec.mount.tmpfs.size is not supported by
 * build server, please update docker"), and `--security=insecure` needs an entitlement that
 * `docker build` 20.10 cannot grant.
 *
 * | feature                                          | docker 20.10 built-in | what happens                          | since |
 * | ------------------------------------------------ | --------------------- | ------------------------------------- | ----- |
 * | RUN heredoc (`RUN <<EOF`)                        | no                    | parse error: unknown instruction      | 1.4   |
 * | COPY --link, ADD --link                          | no                    | parse error: Unknown flag: link       | 1.4   |
 * | COPY --exclude, ADD --exclude                    | no                    | parse error: Unknown flag: exclude    | 1.19  |
 * | COPY --parents                                   | no                    | parse error: Unknown flag: parents    | 1.20  |
 * | COPY/ADD --chmod=0755 (octal)                    | yes                   | mode applied                          |       |
 * | COPY/ADD --chmod=u+x (non-octal)                 | no                    | SILENTLY IGNORED (mode stays 0644)    | 1.14  |
 * | COPY/ADD --chmod=${ARG}                          | no                    | SILENTLY IGNORED (mode stays 0644)    | 1.10  |
 * | COPY/ADD --chown=${ARG}                          | yes                   | expanded                              |       |
 * | ADD --checksum (local or http source)            | no                    | parse error: Unknown flag: checksum   | 1.6   |
 * | ADD <http URL> (no checksum), with --chown       | yes                   | downloaded, owner applied             |       |
 * | ADD --chmod with an http URL                     | no                    | SILENTLY IGNORED (mode 0600)          | 1.3   |
 * | ADD --keep-git-dir                               | no                    | parse error: Unknown flag             | 1.6   |
 * | RUN --mount=type=cache (id, sharing, ro, from=stage, source, mode, uid, gid) | yes | works       |       |
 * | RUN --mount=type=bind (context, from=stage, from=image, source, rw)          | yes | works       |       |
 * | RUN --mount=type=tmpfs                           | yes                   | works                                 |       |
 * | RUN --mount=type=tmpfs,size=…                    | no (daemon too)       | parse error: unexpected key 'size'    | 1.4   |
 * | RUN --mount=type=secret (id, target, required, mode, uid, gid) | yes   | works                                 |       |
 * | RUN --mount=type=secret,env=…                    | no                    | parse error: unexpected key 'env'     | 1.10  |
 * | RUN --mount=type=ssh (id, target, required, mode, uid, gid)    | yes   | works                                 |       |
 * | ${ARG} in RUN --mount values                     | no                    | NOT EXPANDED (mounted at `/${T}`)     | 1.3   |
 * | RUN --network=none|host|default                  | no                    | parse error: Unknown flag: network    | 1.3   |
 * | RUN --security=insecure|sandbox                  | no                    | parse error: Unknown flag: security   | 1.20  |
 * | HEALTHCHECK --start-interval                     | no                    | parse error: Unknown flag             | 1.6   |
 * | HEALTHCHECK --interval/--timeout/--start-period/--retries, NONE | yes    | works                                 |       |
 * | ARG before FROM; FROM --platform=${ARG} ${ARG}:tag | yes                 | works                                 |       |
 * | ONBUILD, SHELL, exec-form RUN with --mount        | yes                   | works                                 |       |
 * | ${ARG} in COPY --from or mount from=             | no, in no version     | the emitter gives the ref a stage     |       |
 * | ${ARG} in COPY/ADD --exclude                     | no, in no version     | the emitter inlines the value         |       |
 *
 * `--network=default` and `--security=sandbox` are the defaults, so the emitter leaves them out and
 * needs no newer frontend for them. ONBUILD instructions run in a later build, with that build's
 * frontend, so they never require a syntax line here.
 */
import type { MountSpec, Op } from '../graph/types.js';
import { runForm } from './quote.js';

export const FEATURES = {
  'run-heredoc': { label: 'RUN with a multi-line script (heredoc)', since: '1.4' },
  'copy-link': { label: 'COPY --link', since: '1.4' },
  'add-link': { label: 'ADD --link', since: '1.4' },
  'tmpfs-size': { label: 'RUN --mount=type=tmpfs,size=', since: '1.4' },
  'mount-expansion': { label: 'variables or quotes in RUN --mount options', since: '1.3' },
  network: { label: 'RUN --network', since: '1.3' },
  'add-url-chmod': { label: 'ADD --chmod of a URL', since: '1.3' },
  checksum: { label: 'ADD --checksum', since: '1.6' },
  'keep-git-dir': { label: 'ADD --keep-git-dir', since: '1.6' },
  'start-interval': { label: 'HEALTHCHECK --start-interval', since: '1.6' },
  'secret-env': { label: 'RUN --mount=type=secret,env=', since: '1.10' },
  'chmod-args': { label: 'variables in COPY/ADD --chmod', since: '1.10' },
  'chmod-symbolic': { label: 'non-octal COPY/ADD --chmod', since: '1.14' },
  'copy-exclude': { label: 'COPY --exclude', since: '1.19' },
  'add-exclude': { label: 'ADD --exclude', since: '1.19' },
  parents: { label: 'COPY --parents', since: '1.20' },
  security: { label: 'RUN --security', since: '1.20' },
} as const satisfies Record<string, { label: string; since: string }>;

export type FeatureId = keyof typeof FEATURES;

const OCTAL = /^[0-7]{3,4}$/;
const URL = /^https?:\/\//i;

/** Features one instruction needs beyond docker 20.10's built-in frontend. */
export function opFeatures(op: Op): FeatureId[] {
  const out: FeatureId[] = [];
  const chmod = (mode: string | undefined): void => {
    if (mode === undefined) return;
    if (mode.includes('$')) out.push('chmod-args');
    else if (!OCTAL.test(mode)) out.push('chmod-symbolic');
  };
  switch (op.op) {
    case 'run':
      if ('shell' in op.command && runForm(op.command.shell) === 'heredoc') out.push('run-heredoc');
      if (op.network === 'none' || op.network === 'host') out.push('network');
      if (op.security === 'insecure') out.push('security');
      for (const m of op.mounts) out.push(...mountFeatures(m));
      break;
    case 'copy':
      if (op.link) out.push('copy-link');
      if (op.exclude?.length) out.push('copy-exclude');
      if (op.parents) out.push('parents');
      chmod(op.chmod);
      break;
    case 'add':
      if (op.link) out.push('add-link');
      if (op.exclude?.length) out.push('add-exclude');
      if (op.checksum !== undefined) out.push('checksum');
      if (op.keepGitDir) out.push('keep-git-dir');
      chmod(op.chmod);
      if (op.chmod !== undefined && op.sources.some((s) => URL.test(s))) out.push('add-url-chmod');
      break;
    case 'healthcheck':
      if (op.healthcheck.startInterval !== undefined) out.push('start-interval');
      break;
    default:
      break;
  }
  return [...new Set(out)];
}

function mountFeatures(m: MountSpec): FeatureId[] {
  const out: FeatureId[] = [];
  if (m.type === 'secret' && m.env !== undefined) out.push('secret-env');
  if (m.type === 'tmpfs' && m.size !== undefined) out.push('tmpfs-size');
  // docker 20.10 takes mount options verbatim; 1.3+ expands them, so both read them alike only
  // when they hold no `$`, quotes or backslashes. `from=` is never expanded (see aliasing).
  const values = Object.entries(m)
    .filter(([k, v]) => k !== 'from' && typeof v === 'string')
    .map(([, v]) => v as string);
  if (values.some((v) => /[$"'\\]/.test(v))) out.push('mount-expansion');
  return out;
}

/** Orders features by the release that brought them, then by name, for a stable header. */
export function sortFeatures(ids: Iterable<FeatureId>): FeatureId[] {
  return [...new Set(ids)].sort((a, b) => compareVersions(FEATURES[a].since, FEATURES[b].since) || a.localeCompare(b));
}

/** The `# syntax=` line and one `# needs dockerfile:X+ for: …` line per release, or nothing. */
export function syntaxHeader(ids: Iterable<FeatureId>): { directive?: string; notes: string[] } {
  const sorted = sortFeatures(ids);
  if (sorted.length === 0) return { notes: [] };
  const bySince = new Map<string, string[]>();
  for (const id of sorted) {
    const f = FEATURES[id];
    bySince.set(f.since, [...(bySince.get(f.since) ?? []), f.label]);
  }
  const notes = [...bySince].map(([since, labels]) => `# needs dockerfile:${since}+ for: ${labels.join(', ')}`);
  return { directive: '# syntax=docker/dockerfile:1', notes };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
