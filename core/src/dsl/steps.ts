import { callSite } from './loc.js';
import { defined } from './plain.js';
import type {
  AddOptions,
  AddStep,
  CopyOptions,
  CopyStep,
  EnvStep,
  Mount,
  RunOptions,
  RunStep,
  ShellStep,
  UserStep,
  WorkdirStep,
} from './types.js';

function octal(mode: string | number | undefined): string | undefined {
  if (mode === undefined) return undefined;
  return typeof mode === 'number' ? mode.toString(8).padStart(4, '0') : mode;
}

/** Stage names a step's bind mounts refer to, so a misspelt `bind({ from })` is a type error. */
type BindFrom<M> = M extends readonly (infer E)[]
  ? E extends { type: 'bind'; from?: infer F }
    ? Extract<F, string>
    : never
  : never;

/** RUN: a string runs through the stage's shell, an array runs as exec form. */
export function run<const M extends readonly Mount[] = []>(
  command: string | readonly string[],
  options: Omit<RunOptions, 'mounts'> & { mounts?: M } = {},
): RunStep<BindFrom<M>> {
  return defined({
    kind: 'step',
    op: 'run',
    command: typeof command === 'string' ? command : [...command],
    mounts: [...(options.mounts ?? [])],
    network: options.network,
    security: options.security,
    loc: callSite(),
  }) as RunStep<BindFrom<M>>;
}

/** COPY from the build context, or from another stage or image with `{ from }`. */
export function copy<const F extends string = never>(
  sources: string | readonly string[],
  dest: string,
  options: CopyOptions<F> = {},
): CopyStep<NoInfer<F>> {
  return defined({
    kind: 'step',
    op: 'copy',
    sources: typeof sources === 'string' ? [sources] : [...sources],
    dest,
    from: options.from,
    chown: options.chown,
    chmod: octal(options.chmod),
    link: options.link,
    exclude: options.exclude ? [...options.exclude] : undefined,
    parents: options.parents,
    loc: callSite(),
  });
}

/** ADD: extracts local tar archives; downloads http(s) URLs, verified by `checksum` when given. */
export function add(sources: string | readonly string[], dest: string, options: AddOptions = {}): AddStep {
  return defined({
    kind: 'step',
    op: 'add',
    sources: typeof sources === 'string' ? [sources] : [...sources],
    dest,
    checksum: options.checksum,
    chown: options.chown,
    chmod: octal(options.chmod),
    link: options.link,
    exclude: options.exclude ? [...options.exclude] : undefined,
    keepGitDir: options.keepGitDir,
    loc: callSite(),
  });
}

export function env(vars: Readonly<Record<string, string | number | boolean>>): EnvStep {
  return defined({ kind: 'step', op: 'env', env: { ...vars }, loc: callSite() });
}

export function workdir(path: string): WorkdirStep {
  return defined({ kind: 'step', op: 'workdir', path, loc: callSite() });
}

export function user(name: string): UserStep {
  return defined({ kind: 'step', op: 'user', user: name, loc: callSite() });
}

export function shell(argv: readonly string[]): ShellStep {
  return defined({ kind: 'step', op: 'shell', shell: [...argv], loc: callSite() });
}
