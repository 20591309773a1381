import { error, type ConfigPath, type Diagnostic } from '../diagnostics/index.js';
import type { FromRef, Healthcheck, ImageHandle, Mount, SourceLoc, StageDef, Step } from '../dsl/types.js';
import type { BaseRef, Command, MountSpec, Op, Source } from '../graph/types.js';
import {
  CHECKSUM,
  CHMOD,
  DURATION,
  ENV_KEY,
  IMAGE_REF,
  PLATFORM,
  PORT,
  contextPathProblem,
  isUrl,
  looksLikeImage,
} from './checks.js';
import { defined } from '../dsl/plain.js';
import { hasToken } from './tokens.js';
import type { Words } from './words.js';

/** A stage lowered to ops, before digests: `reads` names the stages each op takes files from. */
export interface LoweredStage {
  name: string;
  base: BaseRef;
  ops: LoweredOp[];
  dependsOn: string[];
  loc?: SourceLoc;
}
export interface LoweredOp {
  op: Op;
  args: string[];
  reads: string[];
  loc?: SourceLoc;
}

interface Scope {
  image: string;
  stage: string;
  stageNames: readonly string[];
  secretIds: readonly string[];
  words: Words;
  diagnostics: Diagnostic[];
}

export function lowerStage(name: string, def: StageDef, scope: Omit<Scope, 'stage'>): LoweredStage {
  const s: Scope = { ...scope, stage: name };
  const ops: LoweredOp[] = [];
  const reads = new Set<string>();
  const push = (op: Op, loc?: SourceLoc, from: string[] = []): void => {
    from.forEach((r) => reads.add(r));
    ops.push({ op, args: s.words.take(), reads: from, ...(loc ? { loc } : {}) });
  };

  if (def === null || typeof def !== 'object') {
    s.diagnostics.push(error('DD103', `stage "${name}" of image "${s.image}" is not an object`, at(s)));
    return { name, base: { kind: 'scratch' }, ops, dependsOn: [] };
  }
  const base = baseRef(def.from, def.platform, s);
  s.words.take(); // args of the FROM line are the stage's, not its first node's
  if (base.kind === 'stage') reads.add(base.stage);

  if (def.workdir !== undefined) push({ op: 'workdir', path: s.words.expand(String(def.workdir)) });
  if (def.env !== undefined) push({ op: 'env', env: envPairs(def.env, s) });
  if (def.shell !== undefined) push({ op: 'shell', shell: def.shell.map((a) => s.words.literal(a, 'SHELL')) });

  for (const step of def.steps ?? []) {
    const lowered = lowerStep(step, s);
    if (lowered) push(lowered.op, step.loc, lowered.reads);
  }

  if (def.user !== undefined) push({ op: 'user', user: s.words.expand(String(def.user)) });
  if (def.labels !== undefined) {
    push({
      op: 'label',
      labels: Object.entries(def.labels).map(([k, v]) => [s.words.expand(k), s.words.expand(String(v))]),
    });
  }
  if (def.expose !== undefined) push({ op: 'expose', ports: def.expose.map((p) => port(p, s)) });
  if (def.volumes !== undefined) push({ op: 'volume', paths: def.volumes.map((v) => s.words.expand(v)) });
  if (def.stopSignal !== undefined) push({ op: 'stopsignal', signal: s.words.expand(def.stopSignal) });
  if (def.healthcheck !== undefined) push({ op: 'healthcheck', healthcheck: healthcheck(def.healthcheck, s) });
  // ENTRYPOINT before CMD: a Dockerfile's ENTRYPOINT resets an inherited CMD.
  if (def.entrypoint !== undefined) push({ op: 'entrypoint', command: command(def.entrypoint, 'ENTRYPOINT', s) });
  if (def.cmd !== undefined) push({ op: 'cmd', command: command(def.cmd, 'CMD', s) });
  for (const instruction of def.onbuild ?? []) {
    push({ op: 'onbuild', instruction: s.words.literal(instruction, 'ONBUILD') });
  }
  return { name, base, ops, dependsOn: [...reads] };
}

function at(s: Scope, field?: string, value?: string): { path: ConfigPath } {
  return {
    path: {
      image: s.image,
      stage: s.stage,
      ...(field ? { field } : {}),
      ...(value !== undefined ? { value } : {}),
    },
  };
}

function where(s: Scope): string {
  return `stage "${s.stage}" of image "${s.image}"`;
}

function baseRef(from: FromRef<string> | undefined, platform: string | undefined, s: Scope): BaseRef {
  const plat = platform === undefined ? {} : { platform: checkPlatform(platform, s) };
  if (from === undefined) {
    s.diagnostics.push(
      error('DD103', `${where(s)} has no "from"`, {
        ...at(s, 'from'),
        hint: 'set from: an image such as busybox:1.36, or another stage',
      }),
    );
    return { kind: 'scratch' };
  }
  const src = source(from, 'from', s);
  if (src.kind === 'stage') return { kind: 'stage', stage: src.stage, ...plat };
  if (src.kind === 'image')
    return src.ref === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: src.ref, ...plat };
  return { kind: 'scratch' };
}

/** Resolves a stage-or-image reference; a bare word that is not a stage is an error, not an image. */
function source(ref: FromRef<string> | ImageHandle, field: string, s: Scope): Source {
  if (typeof ref === 'object' && ref !== null && (ref as ImageHandle).kind === 'image') {
    return { kind: 'image', ref: checkImageRef(s.words.expand((ref as ImageHandle).ref), field, s) };
  }
  if (typeof ref !== 'string') {
    s.diagnostics.push(
      error('DD103', `${where(s)}: ${field} must be a stage name or an image reference`, at(s, field)),
    );
    return { kind: 'context' };
  }
  if (s.stageNames.includes(ref)) return { kind: 'stage', stage: ref };
  if (hasToken(ref) || looksLikeImage(ref)) {
    return { kind: 'image', ref: checkImageRef(s.words.expand(ref), field, s) };
  }
  s.diagnostics.push(
    error('DD110', `${where(s)}: ${field} "${ref}" is not a stage of this image`, {
      ...at(s, field, ref),
      hint: `stages: ${s.stageNames.join(', ')}; for an image write ${ref}:TAG or image('${ref}')`,
    }),
  );
  return { kind: 'stage', stage: ref };
}

function checkImageRef(ref: string, field: string, s: Scope): string {
  if (ref !== 'scratch' && !ref.includes('${') && !IMAGE_REF.test(ref)) {
    s.diagnostics.push(
      error('DD160', `${where(s)}: ${field} "${ref}" is not a valid image reference`, {
        ...at(s, field, ref),
        hint: 'expected [registry/]name[:tag][@sha256:digest] with a lowercase name',
      }),
    );
  }
  return ref;
}

function checkPlatform(platform: string, s: Scope): string {
  if (!hasToken(platform) && !PLATFORM.test(platform)) {
    s.diagnostics.push(
      error('DD160', `${where(s)}: platform "${platform}" is not os/arch[/variant]`, at(s, 'platform', platform)),
    );
  }
  return s.words.expand(platform);
}

function envPairs(env: Readonly<Record<string, string | number | boolean>>, s: Scope): [string, string][] {
  return Object.entries(env).map(([k, v]) => {
    if (!ENV_KEY.test(k)) {
      s.diagnostics.push(
        error('DD160', `${where(s)}: env name "${k}" may not contain = or whitespace`, at(s, 'env', k)),
      );
    }
    return [k, s.words.expand(String(v))];
  });
}

function port(p: number | string, s: Scope): string {
  const text = String(p);
  if (!hasToken(text)) {
    const m = PORT.exec(text);
    const n = m ? Number(m[1]) : NaN;
    if (!m || n < 1 || n > 65535) {
      s.diagnostics.push(
        error('DD160', `${where(s)}: expose "${text}" is not a port`, {
          ...at(s, 'expose', text),
          hint: 'a number from 1 to 65535, optionally with /tcp, /udp or /sctp',
        }),
      );
    }
  }
  return s.words.expand(text);
}

function command(cmd: string | readonly string[], instruction: string, s: Scope): Command {
  if (typeof cmd === 'string') return { shell: s.words.literal(cmd, instruction) };
  return { exec: cmd.map((a) => s.words.literal(String(a), instruction)) };
}

function healthcheck(h: Healthcheck, s: Scope): { test: Command | 'none' } & Omit<Healthcheck, 'test'> {
  for (const key of ['interval', 'timeout', 'startPeriod', 'startInterval'] as const) {
    const v = h[key];
    if (v !== undefined && !DURATION.test(v)) {
      s.diagnostics.push(
        error('DD160', `${where(s)}: healthcheck.${key} "${v}" is not a duration`, {
          ...at(s, key, v),
          hint: "use Go durations such as '30s' or '1m30s'",
        }),
      );
    }
  }
  if (h.retries !== undefined && !(Number.isInteger(h.retries) && h.retries >= 0)) {
    s.diagnostics.push(error('DD160', `${where(s)}: healthcheck.retries must be a whole number`, at(s, 'retries')));
  }
  const { test, ...rest } = h;
  return { test: test === 'none' ? 'none' : command(test, 'HEALTHCHECK', s), ...rest };
}

function chmod(mode: string | undefined, s: Scope): string | undefined {
  if (mode === undefined) return undefined;
  if (!hasToken(mode) && !CHMOD.test(mode)) {
    s.diagnostics.push(
      error('DD160', `${where(s)}: chmod "${mode}" is not an octal mode`, {
        ...at(s, 'chmod', mode),
        hint: "e.g. '0755' or 0o755",
      }),
    );
  }
  return s.words.expand(mode);
}

function contextPaths(paths: readonly string[], field: string, s: Scope): string[] {
  return paths.map((p) => {
    const problem = hasToken(p) ? undefined : contextPathProblem(p);
    if (problem) {
      s.diagnostics.push(error('DD120', `${where(s)}: ${field} "${p}" ${problem}`, at(s, field, p)));
    }
    return s.words.expand(p);
  });
}

function octalMode(mode: number | undefined): string | undefined {
  return mode === undefined ? undefined : mode.toString(8).padStart(4, '0');
}

function lowerStep(step: Step, s: Scope): { op: Op; reads: string[] } | undefined {
  if (step === null || typeof step !== 'object' || step.kind !== 'step') {
    s.diagnostics.push(
      error('DD103', `${where(s)}: a step is not a drydock step`, {
        ...at(s, 'steps'),
        hint: 'use run(), copy(), add(), env(), workdir(), user() or shell()',
      }),
    );
    return undefined;
  }
  switch (step.op) {
    case 'run': {
      const reads: string[] = [];
      const mounts = step.mounts.map((m) => mount(m, s, reads));
      const cmd: Command =
        typeof step.command === 'string'
          ? { shell: s.words.expand(step.command) }
          : { exec: step.command.map((a) => s.words.literal(a, 'RUN (exec form)')) };
      if (step.network !== undefined && !['default', 'none', 'host'].includes(step.network)) {
        s.diagnostics.push(
          error(
            'DD160',
            `${where(s)}: network "${step.network}" is not default, none or host`,
            at(s, 'network', step.network),
          ),
        );
      }
      if (step.security !== undefined && !['sandbox', 'insecure'].includes(step.security)) {
        s.diagnostics.push(
          error(
            'DD160',
            `${where(s)}: security "${step.security}" is not sandbox or insecure`,
            at(s, 'security', step.security),
          ),
        );
      }
      return {
        op: defined({ op: 'run', command: cmd, mounts, network: step.network, security: step.security }),
        reads,
      };
    }
    case 'copy': {
      const from: Source = step.from === undefined ? { kind: 'context' } : source(step.from, 'copy from', s);
      const sources =
        from.kind === 'context'
          ? contextPaths(step.sources, 'copy source', s)
          : step.sources.map((p) => s.words.expand(p));
      return {
        op: defined({
          op: 'copy',
          from,
          sources,
          dest: s.words.expand(step.dest),
          chown: step.chown === undefined ? undefined : s.words.expand(step.chown),
          chmod: chmod(step.chmod, s),
          link: step.link,
          exclude: step.exclude?.map((e) => s.words.expand(e)),
          parents: step.parents,
        }),
        reads: from.kind === 'stage' ? [from.stage] : [],
      };
    }
    case 'add': {
      const urls = step.sources.filter(isUrl);
      const local = contextPaths(
        step.sources.filter((p) => !isUrl(p)),
        'add source',
        s,
      );
      if (step.checksum !== undefined && (!CHECKSUM.test(step.checksum) || urls.length !== step.sources.length)) {
        s.diagnostics.push(
          error(
            'DD160',
            `${where(s)}: add checksum must be sha256:<64 hex> and is only for http(s) sources`,
            at(s, 'checksum', step.checksum),
          ),
        );
      }
      return {
        op: defined({
          op: 'add',
          sources: step.sources.map((p) => (isUrl(p) ? s.words.expand(p) : local.shift()!)),
          dest: s.words.expand(step.dest),
          checksum: step.checksum,
          chown: step.chown === undefined ? undefined : s.words.expand(step.chown),
          chmod: chmod(step.chmod, s),
          link: step.link,
          exclude: step.exclude?.map((e) => s.words.expand(e)),
          keepGitDir: step.keepGitDir,
        }),
        reads: [],
      };
    }
    case 'env':
      return { op: { op: 'env', env: envPairs(step.env, s) }, reads: [] };
    case 'workdir':
      return { op: { op: 'workdir', path: s.words.expand(step.path) }, reads: [] };
    case 'user':
      return { op: { op: 'user', user: s.words.expand(step.user) }, reads: [] };
    case 'shell':
      return { op: { op: 'shell', shell: step.shell.map((a) => s.words.literal(a, 'SHELL')) }, reads: [] };
    default:
      s.diagnostics.push(
        error('DD103', `${where(s)}: unknown step op "${(step as { op: string }).op}"`, at(s, 'steps')),
      );
      return undefined;
  }
}

function mount(m: Mount, s: Scope, reads: string[]): MountSpec {
  const target = 'target' in m && m.target !== undefined ? s.words.expand(m.target) : undefined;
  switch (m.type) {
    case 'cache': {
      const from = m.from === undefined ? undefined : source(m.from, 'cache from', s);
      if (from?.kind === 'stage') reads.push(from.stage);
      if (m.sharing !== undefined && !['shared', 'private', 'locked'].includes(m.sharing)) {
        s.diagnostics.push(
          error(
            'DD160',
            `${where(s)}: cache sharing "${m.sharing}" is not shared, private or locked`,
            at(s, 'sharing', m.sharing),
          ),
        );
      }
      return defined({
        type: 'cache',
        target: target!,
        id: m.id === undefined ? undefined : s.words.expand(m.id),
        sharing: m.sharing,
        readonly: m.readonly,
        from,
        source: m.source,
        mode: octalMode(m.mode),
        uid: m.uid,
        gid: m.gid,
      });
    }
    case 'bind': {
      const from: Source = m.from === undefined ? { kind: 'context' } : source(m.from, 'bind from', s);
      if (from.kind === 'stage') reads.push(from.stage);
      const src =
        m.source === undefined
          ? undefined
          : from.kind === 'context'
            ? contextPaths([m.source], 'bind source', s)[0]
            : s.words.expand(m.source);
      return defined({ type: 'bind', target: target!, from, source: src, readwrite: m.readwrite });
    }
    case 'tmpfs':
      return defined({ type: 'tmpfs', target: target!, size: m.size });
    case 'ssh':
      return defined({
        type: 'ssh',
        id: m.id,
        target,
        required: m.required,
        mode: octalMode(m.mode),
        uid: m.uid,
        gid: m.gid,
      });
    case 'secret': {
      if (!s.secretIds.includes(m.id)) {
        s.diagnostics.push(
          error('DD141', `${where(s)}: secret "${m.id}" is not declared`, {
            ...at(s, 'secrets', m.id),
            hint: s.secretIds.length ? `declared secrets: ${s.secretIds.join(', ')}` : 'declare it under secrets',
          }),
        );
      }
      return defined({
        type: 'secret',
        id: m.id,
        target: m.env === undefined ? target : undefined,
        env: m.env,
        mode: octalMode(m.mode),
        uid: m.uid,
        gid: m.gid,
        // drydock fails a step whose secret is missing; BuildKit's default would silently skip it.
        required: m.required ?? true,
      });
    }
    default:
      s.diagnostics.push(
        error('DD103', `${where(s)}: unknown mount type "${(m as { type: string }).type}"`, at(s, 'mounts')),
      );
      return { type: 'tmpfs', target: '/' };
  }
}
