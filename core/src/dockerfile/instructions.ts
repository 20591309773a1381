/**
 * One Dockerfile instruction per graph node. Formatting only: which frontend a node needs is
 * decided in features.ts, the stage layout (FROM, ARG scoping, aliases) in dockerfile.ts.
 */
import { DiagnosticError, error } from '../diagnostics/index.js';
import type { SourceLoc } from '../dsl/types.js';
import type { Command, HealthcheckSpec, MountSpec, Op, Source } from '../graph/types.js';
import {
  csvField,
  doubleQuote,
  escapeWord,
  fitsOneLine,
  flag,
  hasLineBreak,
  jsonArray,
  runForm,
  word,
} from './quote.js';

export interface RenderContext {
  /** The name `--from=` / `from=` uses for a stage or image (images with variables get an alias stage). */
  fromName(source: Exclude<Source, { kind: 'context' }>): string;
  /** The shell shell-form commands run with at this point, for rewriting them to exec form. */
  readonly shell: readonly string[];
  /** Inlines build args where no Dockerfile expands them; `where` names the place for the header. */
  inlineArgs(s: string, where: string): string;
}

type Located = Op & { loc?: SourceLoc };

const INDENT = '    ';

/** The instruction text for one node (may span lines: continuations, heredocs). */
export function renderOp(node: Located, ctx: RenderContext): string {
  const fail = (what: string): never => {
    throw new DiagnosticError([
      error('DD160', `cannot be written in a Dockerfile: ${what}`, node.loc ? { loc: node.loc } : {}),
    ]);
  };
  const oneLine = (s: string, what: string): string => (hasLineBreak(s) ? fail(`${what} contains a line break`) : s);

  switch (node.op) {
    case 'run': {
      const flags = node.mounts.map((m) => `--mount=${renderMount(m, ctx, oneLine)}`);
      if (node.network === 'none' || node.network === 'host') flags.push(`--network=${node.network}`);
      if (node.security === 'insecure') flags.push('--security=insecure');
      if ('exec' in node.command) return continued('RUN', [...flags, jsonArray(node.command.exec)]);
      const script = node.command.shell;
      const form = runForm(script);
      if (form === 'line') return continued('RUN', [...flags, script]);
      if (form === 'continued') return ['RUN', ...flags, script].join(' ');
      // A multi-line script becomes a heredoc, which BuildKit runs as `<shell> <script>`.
      const delimiter = heredocDelimiter(script);
      const body = script.endsWith('\n') ? script : script + '\n';
      return ['RUN', ...flags, `<<${delimiter}`].join(' ') + '\n' + body + delimiter;
    }
    case 'copy': {
      const flags: string[] = [];
      if (node.from.kind !== 'context') flags.push(`--from=${flag(ctx.fromName(node.from))}`);
      flags.push(...fileFlags(node, ctx, oneLine, 'COPY'));
      if (node.parents) flags.push('--parents');
      return ['COPY', ...flags, paths([...node.sources, node.dest])].join(' ');
    }
    case 'add': {
      const flags = fileFlags(node, ctx, oneLine, 'ADD');
      if (node.checksum !== undefined) flags.push(`--checksum=${flag(escapeWord(oneLine(node.checksum, 'checksum')))}`);
      if (node.keepGitDir) flags.push('--keep-git-dir');
      return ['ADD', ...flags, paths([...node.sources, node.dest])].join(' ');
    }
    case 'env':
      return continued(
        'ENV',
        node.env.map(([k, v]) => {
          if (!/^[^\s=]+$/.test(k)) fail(`env name "${k}" (no =, whitespace or empty names)`);
          return `${k}=${word(oneLine(v, `the value of env ${k}`))}`;
        }),
      );
    case 'label':
      return continued(
        'LABEL',
        node.labels.map(([k, v]) => `${labelKey(oneLine(k, 'a label name'))}=${word(oneLine(v, `label ${k}`))}`),
      );
    case 'workdir':
      return `WORKDIR ${word(oneLine(node.path, 'workdir'))}`;
    case 'user':
      return `USER ${word(oneLine(node.user, 'user'))}`;
    case 'shell':
      return `SHELL ${jsonArray(node.shell)}`;
    case 'expose':
      return `EXPOSE ${node.ports.map((p) => (/\s/.test(p) ? fail(`port "${p}"`) : word(p))).join(' ')}`;
    case 'volume':
      return `VOLUME ${jsonArray(node.paths.map(escapeWord))}`;
    case 'cmd':
      return `CMD ${command(node.command, ctx)}`;
    case 'entrypoint':
      return `ENTRYPOINT ${command(node.command, ctx)}`;
    case 'healthcheck':
      return healthcheck(node.healthcheck, ctx);
    case 'stopsignal':
      return `STOPSIGNAL ${word(oneLine(node.signal, 'stop signal'))}`;
    case 'onbuild':
      return `ONBUILD ${oneLine(node.instruction, 'ONBUILD instruction').trim()}`;
  }
}

/** Flags COPY and ADD share. */
function fileFlags(
  node: Extract<Op, { op: 'copy' | 'add' }>,
  ctx: RenderContext,
  oneLine: (s: string, what: string) => string,
  instruction: string,
): string[] {
  const flags: string[] = [];
  // --chown (and, from dockerfile 1.10, --chmod) are expanded, so they need word escaping too.
  if (node.chown !== undefined) flags.push(`--chown=${flag(escapeWord(oneLine(node.chown, 'chown')))}`);
  if (node.chmod !== undefined) flags.push(`--chmod=${flag(escapeWord(oneLine(node.chmod, 'chmod')))}`);
  if (node.link) flags.push('--link');
  for (const pattern of node.exclude ?? []) {
    // No Dockerfile frontend expands --exclude, so build args are inlined.
    const inlined = ctx.inlineArgs(oneLine(pattern, 'exclude pattern'), `${instruction} --exclude`);
    flags.push(`--exclude=${flag(inlined)}`);
  }
  return flags;
}

/** COPY/ADD paths: plain, or JSON when whitespace (or a leading `[` / `<<`) would confuse the parser. */
function paths(list: string[]): string {
  const json = list.some((p) => /\s/.test(p) || p.startsWith('[') || p.startsWith('<<'));
  return json ? jsonArray(list.map(escapeWord)) : list.map(escapeWord).join(' ');
}

function renderMount(m: MountSpec, ctx: RenderContext, oneLine: (s: string, what: string) => string): string {
  const fields: string[] = [`type=${m.type}`];
  const add = (key: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    // dockerfile 1.3+ expands mount values (features.ts asks for it when one has `$` or quotes).
    const text = typeof value === 'number' ? String(value) : escapeWord(oneLine(value, `mount ${key}`));
    fields.push(csvField(`${key}=${text}`));
  };
  const from = (source: Source | undefined): void => {
    if (source && source.kind !== 'context') fields.push(csvField(`from=${ctx.fromName(source)}`));
  };
  const bool = (key: string, value: boolean | undefined): void => {
    if (value !== undefined) fields.push(`${key}=${value}`);
  };
  switch (m.type) {
    case 'cache':
      add('target', m.target);
      add('id', m.id);
      add('sharing', m.sharing);
      from(m.from);
      add('source', m.source);
      add('mode', m.mode);
      add('uid', m.uid);
      add('gid', m.gid);
      if (m.readonly) fields.push('ro');
      break;
    case 'bind':
      add('target', m.target);
      from(m.from);
      add('source', m.source);
      if (m.readwrite) fields.push('rw');
      break;
    case 'tmpfs':
      add('target', m.target);
      add('size', m.size);
      break;
    case 'ssh':
      add('id', m.id);
      add('target', m.target);
      bool('required', m.required);
      add('mode', m.mode);
      add('uid', m.uid);
      add('gid', m.gid);
      break;
    case 'secret':
      add('id', m.id);
      add('target', m.target);
      add('env', m.env);
      bool('required', m.required);
      add('mode', m.mode);
      add('uid', m.uid);
      add('gid', m.gid);
      break;
  }
  return flag(fields.join(','));
}

/** CMD/ENTRYPOINT/HEALTHCHECK CMD: exec form as JSON; shell form as text, or as exec form of the shell when it cannot fit on a line. */
function command(cmd: Command, ctx: RenderContext): string {
  if ('exec' in cmd) return jsonArray(cmd.exec);
  return fitsOneLine(cmd.shell) ? cmd.shell.trim() : jsonArray([...ctx.shell, cmd.shell]);
}

function healthcheck(h: HealthcheckSpec, ctx: RenderContext): string {
  if (h.test === 'none') return 'HEALTHCHECK NONE';
  const flags: string[] = [];
  if (h.interval !== undefined) flags.push(`--interval=${flag(h.interval)}`);
  if (h.timeout !== undefined) flags.push(`--timeout=${flag(h.timeout)}`);
  if (h.startPeriod !== undefined) flags.push(`--start-period=${flag(h.startPeriod)}`);
  if (h.startInterval !== undefined) flags.push(`--start-interval=${flag(h.startInterval)}`);
  if (h.retries !== undefined) flags.push(`--retries=${h.retries}`);
  return ['HEALTHCHECK', ...flags, 'CMD', command(h.test, ctx)].join(' ');
}

function labelKey(k: string): string {
  return /^[A-Za-z0-9_./:@%+~^${}-]+$/.test(k) ? k : doubleQuote(k);
}

/** `HEAD a` or, with several parts, one part per continuation line. */
function continued(head: string, parts: string[]): string {
  return parts.length <= 1 ? [head, ...parts].join(' ') : `${head} ` + parts.join(` \\\n${INDENT}`);
}

function heredocDelimiter(script: string): string {
  const lines = new Set(script.split(/\r?\n/).map((l) => l.trim()));
  let delimiter = 'EOF';
  for (let n = 2; lines.has(delimiter); n++) delimiter = `EOF${n}`;
  return delimiter;
}
