/**
 * One node (or a stage's base) as a single Dockerfile-like line, for `drydock graph`. Display
 * only: the emitter owns real Dockerfile syntax; this favours one readable line per node, so
 * newlines inside commands are shown as `\n`.
 */
import type { Command, HealthcheckSpec, MountSpec, Op, Source, StageGraph } from './types.js';

/** The 12 hex digits people recognise a digest by (`sha256:` dropped). */
export function shortDigest(digest: string): string {
  const hex = digest.includes(':') ? digest.slice(digest.indexOf(':') + 1) : digest;
  return hex.slice(0, 12);
}

/** Control characters escaped so every instruction stays on one line. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function fromLine(stage: StageGraph): string {
  const base = stage.base;
  const ref = base.kind === 'scratch' ? 'scratch' : base.kind === 'image' ? base.ref : base.stage;
  const platform = base.kind !== 'scratch' && base.platform ? `--platform=${base.platform} ` : '';
  return oneLine(`FROM ${platform}${ref} AS ${stage.name}`);
}

export function instructionLine(op: Op): string {
  return oneLine(instruction(op));
}

function instruction(op: Op): string {
  switch (op.op) {
    case 'run':
      return words(
        'RUN',
        ...op.mounts.map(mountFlag),
        op.network && op.network !== 'default' ? `--network=${op.network}` : undefined,
        op.security && op.security !== 'sandbox' ? `--security=${op.security}` : undefined,
        command(op.command),
      );
    case 'copy':
      return words(
        'COPY',
        op.from.kind === 'context' ? undefined : `--from=${sourceName(op.from)}`,
        flag('chown', op.chown),
        flag('chmod', op.chmod),
        op.link ? '--link' : undefined,
        op.parents ? '--parents' : undefined,
        ...(op.exclude ?? []).map((p) => `--exclude=${p}`),
        paths([...op.sources, op.dest]),
      );
    case 'add':
      return words(
        'ADD',
        flag('checksum', op.checksum),
        flag('chown', op.chown),
        flag('chmod', op.chmod),
        op.link ? '--link' : undefined,
        op.keepGitDir ? '--keep-git-dir=true' : undefined,
        ...(op.exclude ?? []).map((p) => `--exclude=${p}`),
        paths([...op.sources, op.dest]),
      );
    case 'env':
      return words('ENV', ...op.env.map(([k, v]) => `${k}=${quoted(v)}`));
    case 'label':
      return words('LABEL', ...op.labels.map(([k, v]) => `${quoted(k)}=${quoted(v)}`));
    case 'workdir':
      return `WORKDIR ${op.path}`;
    case 'user':
      return `USER ${op.user}`;
    case 'shell':
      return `SHELL ${jsonArray(op.shell)}`;
    case 'expose':
      return words('EXPOSE', ...op.ports);
    case 'volume':
      return `VOLUME ${jsonArray(op.paths)}`;
    case 'cmd':
      return `CMD ${command(op.command)}`;
    case 'entrypoint':
      return `ENTRYPOINT ${command(op.command)}`;
    case 'healthcheck':
      return healthcheck(op.healthcheck);
    case 'stopsignal':
      return `STOPSIGNAL ${op.signal}`;
    case 'onbuild':
      return `ONBUILD ${op.instruction}`;
  }
}

function words(...parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join(' ');
}

function flag(name: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : `--${name}=${value}`;
}

function command(c: Command): string {
  return 'shell' in c ? c.shell : jsonArray(c.exec);
}

/** Dockerfile's JSON (exec) form, spaced as people write it. */
function jsonArray(items: readonly string[]): string {
  return `[${items.map((i) => JSON.stringify(i)).join(', ')}]`;
}

/** Paths with whitespace need the JSON form, as in a Dockerfile. */
function paths(items: string[]): string {
  return items.some((p) => /\s/.test(p)) ? jsonArray(items) : items.join(' ');
}

function quoted(value: string): string {
  return value === '' || /[\s"'\\]/.test(value) ? JSON.stringify(value) : value;
}

function sourceName(source: Source): string {
  return source.kind === 'stage' ? source.stage : source.kind === 'image' ? source.ref : '.';
}

function mountFlag(m: MountSpec): string {
  const fields: (string | undefined)[] = [`type=${m.type}`];
  const kv = (k: string, v: string | number | boolean | undefined) => (v === undefined ? undefined : `${k}=${v}`);
  switch (m.type) {
    case 'cache':
      fields.push(
        kv('target', m.target),
        kv('id', m.id),
        kv('sharing', m.sharing),
        m.readonly ? 'ro' : undefined,
        m.from && m.from.kind !== 'context' ? kv('from', sourceName(m.from)) : undefined,
        kv('source', m.source),
        kv('mode', m.mode),
        kv('uid', m.uid),
        kv('gid', m.gid),
      );
      break;
    case 'bind':
      fields.push(
        kv('target', m.target),
        m.from.kind !== 'context' ? kv('from', sourceName(m.from)) : undefined,
        kv('source', m.source),
        m.readwrite ? 'rw' : undefined,
      );
      break;
    case 'tmpfs':
      fields.push(kv('target', m.target), kv('size', m.size));
      break;
    case 'ssh':
      fields.push(
        kv('id', m.id),
        kv('target', m.target),
        kv('required', m.required),
        kv('mode', m.mode),
        kv('uid', m.uid),
        kv('gid', m.gid),
      );
      break;
    case 'secret':
      fields.push(
        kv('id', m.id),
        kv('target', m.target),
        kv('env', m.env),
        kv('required', m.required),
        kv('mode', m.mode),
        kv('uid', m.uid),
        kv('gid', m.gid),
      );
      break;
  }
  return `--mount=${fields.filter((f) => f !== undefined).join(',')}`;
}

function healthcheck(h: HealthcheckSpec): string {
  if (h.test === 'none') return 'HEALTHCHECK NONE';
  return words(
    'HEALTHCHECK',
    flag('interval', h.interval),
    flag('timeout', h.timeout),
    flag('start-period', h.startPeriod),
    flag('start-interval', h.startInterval),
    h.retries === undefined ? undefined : `--retries=${h.retries}`,
    'CMD',
    command(h.test),
  );
}
