/**
 * The types people write in images.config.ts. Everything here is plain data: helpers such as
 * `copy()` or `arg.int()` return objects tagged with `kind`, never class instances, so a config
 * evaluated against one copy of the library compiles with another (presets, npx, workspaces).
 */

/** Where in a config file a value was made; captured by helpers, used by diagnostics. */
export interface SourceLoc {
  file: string;
  line: number;
  column: number;
}

// ---------------------------------------------------------------------------------------------
// Build args

interface ArgCommon {
  readonly kind: 'arg';
  readonly description?: string;
}
export interface EnumArg<V extends string = string> extends ArgCommon {
  readonly type: 'enum';
  readonly values: readonly V[];
  readonly default?: V;
}
export interface StringArg extends ArgCommon {
  readonly type: 'string';
  /** Regular expression source the whole value must match. */
  readonly pattern?: string;
  readonly default?: string;
}
export interface IntArg extends ArgCommon {
  readonly type: 'int';
  readonly min?: number;
  readonly max?: number;
  readonly default?: number;
}
export interface BoolArg extends ArgCommon {
  readonly type: 'boolean';
  readonly default?: boolean;
}
export type ArgSpec = EnumArg | StringArg | IntArg | BoolArg;
export type ArgSpecs = Record<string, ArgSpec>;

/** The TypeScript type of an arg's value inside stages. */
export type ArgValue<A> =
  A extends EnumArg<infer V> ? V : A extends IntArg ? number : A extends BoolArg ? boolean : string;

export type ArgValues<A extends ArgSpecs> = { readonly [K in keyof A]: ArgValue<A[K]> };

// ---------------------------------------------------------------------------------------------
// Secrets

export type SecretSource =
  | { readonly from: 'env'; readonly name: string }
  | { readonly from: 'file'; readonly path: string }
  | { readonly from: 'file-env'; readonly name: string }
  | { readonly from: 'command'; readonly command: string };

export interface SecretSpec {
  readonly kind: 'secret';
  readonly source: SecretSource;
  readonly description?: string;
}
export type SecretSpecs = Record<string, SecretSpec>;

/** What `secrets.NAME` is inside stages: a way to mount the secret into one RUN step. */
export interface SecretHandle {
  readonly id: string;
  /** Mount the secret as a file at `target` (default `/run/secrets/<id>`) for one RUN step. */
  at(target?: string, options?: SecretMountOptions): SecretMount;
  /** Expose the secret as an environment variable for one RUN step (needs dockerfile:1.10+ to emit). */
  env(name: string, options?: { required?: boolean }): SecretMount;
}
export interface SecretMountOptions {
  mode?: number;
  uid?: number;
  gid?: number;
  /** Fail the step when the secret is not provided (default true). */
  required?: boolean;
}
export type SecretHandles<S extends SecretSpecs> = { readonly [K in keyof S]: SecretHandle };

// ---------------------------------------------------------------------------------------------
// Image references

/**
 * A base image: `scratch`, or a reference with a tag, registry or digest (`busybox:1.36`,
 * `ghcr.io/org/img`, `alpine@sha256:…`). A bare word is read as a stage name, so a misspelt
 * stage is a type error; use `image('busybox')` for an untagged image.
 */
export type ImageString = 'scratch' | `${string}:${string}` | `${string}/${string}` | `${string}@${string}`;
export interface ImageHandle {
  readonly kind: 'image';
  readonly ref: string;
}
export type ImageRef = ImageString | ImageHandle;

/** A stage of the same image by name, or an image. */
export type FromRef<N extends string> = N | ImageRef;

// ---------------------------------------------------------------------------------------------
// RUN mounts

export interface CacheMount {
  readonly kind: 'mount';
  readonly type: 'cache';
  readonly target: string;
  readonly id?: string;
  readonly sharing?: 'shared' | 'private' | 'locked';
  readonly readonly?: boolean;
  readonly from?: string;
  readonly source?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly loc?: SourceLoc;
}
export interface BindMount<F extends string = string> {
  readonly kind: 'mount';
  readonly type: 'bind';
  readonly target: string;
  /** Stage or image to bind from; the build context when absent. */
  readonly from?: FromRef<F>;
  readonly source?: string;
  readonly readwrite?: boolean;
  readonly loc?: SourceLoc;
}
export interface TmpfsMount {
  readonly kind: 'mount';
  readonly type: 'tmpfs';
  readonly target: string;
  /** Size limit in bytes. */
  readonly size?: number;
  readonly loc?: SourceLoc;
}
export interface SshMount {
  readonly kind: 'mount';
  readonly type: 'ssh';
  readonly id?: string;
  readonly target?: string;
  readonly required?: boolean;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly loc?: SourceLoc;
}
export interface SecretMount {
  readonly kind: 'mount';
  readonly type: 'secret';
  readonly id: string;
  /** File target; absent when exposed as `env`. */
  readonly target?: string;
  readonly env?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly required?: boolean;
  readonly loc?: SourceLoc;
}
export type Mount<F extends string = string> = CacheMount | BindMount<F> | TmpfsMount | SshMount | SecretMount;

// ---------------------------------------------------------------------------------------------
// Steps (instructions that run in order inside a stage)

export interface RunOptions<F extends string = string> {
  mounts?: readonly Mount<F>[];
  /** `default` is the host network; `none` cuts the step off. */
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
}
export interface RunStep<F extends string = string> {
  readonly kind: 'step';
  readonly op: 'run';
  /** A string runs through the stage's shell; an array is exec form. */
  readonly command: string | readonly string[];
  readonly mounts: readonly Mount<F>[];
  readonly network?: 'default' | 'none' | 'host';
  readonly security?: 'sandbox' | 'insecure';
  readonly loc?: SourceLoc;
}

export interface CopyOptions<F extends string = string> {
  /** Copy from another stage or an image instead of the build context. */
  from?: FromRef<F>;
  chown?: string;
  /** Octal string such as '0755' or a number such as 0o755. */
  chmod?: string | number;
  link?: boolean;
  exclude?: readonly string[];
  parents?: boolean;
}
export interface CopyStep<F extends string = string> {
  readonly kind: 'step';
  readonly op: 'copy';
  readonly sources: readonly string[];
  readonly dest: string;
  readonly from?: FromRef<F>;
  readonly chown?: string;
  readonly chmod?: string;
  readonly link?: boolean;
  readonly exclude?: readonly string[];
  readonly parents?: boolean;
  readonly loc?: SourceLoc;
}

export interface AddOptions {
  /** `sha256:…` digest the downloaded URL must match. */
  checksum?: string;
  chown?: string;
  chmod?: string | number;
  link?: boolean;
  exclude?: readonly string[];
  keepGitDir?: boolean;
}
export interface AddStep {
  readonly kind: 'step';
  readonly op: 'add';
  /** Context paths (local tar archives are extracted) or http(s) URLs. */
  readonly sources: readonly string[];
  readonly dest: string;
  readonly checksum?: string;
  readonly chown?: string;
  readonly chmod?: string;
  readonly link?: boolean;
  readonly exclude?: readonly string[];
  readonly keepGitDir?: boolean;
  readonly loc?: SourceLoc;
}

/** Metadata steps, for when a change must happen between two other steps. */
export interface EnvStep {
  readonly kind: 'step';
  readonly op: 'env';
  readonly env: Readonly<Record<string, string | number | boolean>>;
  readonly loc?: SourceLoc;
}
export interface WorkdirStep {
  readonly kind: 'step';
  readonly op: 'workdir';
  readonly path: string;
  readonly loc?: SourceLoc;
}
export interface UserStep {
  readonly kind: 'step';
  readonly op: 'user';
  readonly user: string;
  readonly loc?: SourceLoc;
}
export interface ShellStep {
  readonly kind: 'step';
  readonly op: 'shell';
  readonly shell: readonly string[];
  readonly loc?: SourceLoc;
}

export type Step<F extends string = string> =
  RunStep<F> | CopyStep<F> | AddStep | EnvStep | WorkdirStep | UserStep | ShellStep;

// ---------------------------------------------------------------------------------------------
// Stages and images

export interface Healthcheck {
  /** Exec form array, or a string for shell form; `'none'` disables an inherited check. */
  test: readonly string[] | string | 'none';
  /** Durations like '30s', '1m30s'. */
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
}

/**
 * One stage. `workdir`, `env` and `shell` apply before the steps run; `user` and the image
 * metadata (cmd, entrypoint, expose, labels, …) apply after them, so steps run as root and the
 * image runs as `user`. Use the `user()`, `env()`, `workdir()` steps to change things mid-way.
 */
export interface StageDef<N extends string = string> {
  from: FromRef<N>;
  /** Platform of the base image, e.g. 'linux/amd64'. */
  platform?: string;
  workdir?: string;
  /**
   * One ENV. As in a Dockerfile, `$NAME` in a value sees the environment from before this env, not
   * a sibling key: write `env({ … })` steps to build on a value set just before.
   */
  env?: Readonly<Record<string, string | number | boolean>>;
  shell?: readonly string[];
  steps?: readonly Step<N>[];
  user?: string;
  cmd?: readonly string[] | string;
  entrypoint?: readonly string[] | string;
  expose?: readonly (number | string)[];
  labels?: Readonly<Record<string, string>>;
  volumes?: readonly string[];
  stopSignal?: string;
  healthcheck?: Healthcheck;
  /** Raw Dockerfile instructions run when this image is used as a base, e.g. 'RUN npm ci'. */
  onbuild?: readonly string[];
}

export type StagesDef<N extends string> = { [K in N]: StageDef<N> };

/**
 * A read-only view of one image's build context, for stage functions and presets that look at the
 * project (lockfiles, manifests) to decide what to build. Paths are relative to the context, with
 * `/` separators; a path that leaves the context (`..`, absolute, or through a symlink) throws.
 * Nothing is written, and only what is asked for is read.
 */
export interface ProjectFiles {
  /** The context directory, absolute: for messages only. */
  readonly dir: string;
  /** Whether a file or directory exists at `path`. */
  exists(path: string): boolean;
  /** A file's text (UTF-8), or undefined when there is no file at `path`. */
  readText(path: string): string | undefined;
  /** A JSON file, parsed; undefined when there is no file; throws, naming the file, when it is not JSON. */
  readJson(path: string): unknown;
  /** The names in a directory (default: the context itself), sorted; directories end with `/`; [] when missing. */
  list(dir?: string): string[];
}

/** What stage functions receive: args are typed values (kept symbolic where emit can), secrets are handles. */
export interface StageContext<A extends ArgSpecs, S extends SecretSpecs> {
  readonly args: ArgValues<A>;
  readonly secrets: SecretHandles<S>;
  /** The image's build context, read-only (what presets detect lockfiles with). */
  readonly project: ProjectFiles;
}

interface ImageCommon {
  /** Build context directory, relative to the config file (default: the config's directory). */
  context?: string;
  /** Extra ignore patterns, added after `<context>/.dockerignore`. */
  ignore?: readonly string[];
  tags?: readonly string[];
  platforms?: readonly string[];
  description?: string;
}

export interface StagedImageDef<A extends ArgSpecs, S extends SecretSpecs, N extends string> extends ImageCommon {
  stages: StagesDef<N> | ((ctx: StageContext<A, S>) => StagesDef<N>);
  /** The stage the image is made of (default: the last stage). */
  target?: N;
}

/** A single-stage image, written without a `stages` map. */
export interface SingleStageImageDef<A extends ArgSpecs, S extends SecretSpecs> extends ImageCommon {
  stage: StageDef<never> | ((ctx: StageContext<A, S>) => StageDef<never>);
}

export type ImageDef<A extends ArgSpecs, S extends SecretSpecs, N extends string> =
  StagedImageDef<A, S, N> | SingleStageImageDef<A, S>;

/** Stage names of one image as written: the keys of `stages`, or of what the stages function returns. */
export type StageNamesOf<T> = T extends { stages: infer St }
  ? (St extends (...args: never[]) => infer R ? keyof R : keyof St) & string
  : never;

/** A stage as the loose shape sees it: `from` keeps string literals from widening to `string`. */
type LooseStageDef = Omit<StageDef<string>, 'from'> & { from: ImageRef | (string & {}) };

/** The loose shape images must have before their stage names are known. */
export type ImagesShape<A extends ArgSpecs, S extends SecretSpecs> = Record<
  string,
  | (ImageCommon & {
      stages: Record<string, StageDef<string>> | ((ctx: StageContext<A, S>) => Record<string, LooseStageDef>);
      target?: string;
    })
  | SingleStageImageDef<A, S>
>;

type CheckedImage<A extends ArgSpecs, S extends SecretSpecs, T> = T extends { stages: infer St }
  ? ImageCommon & {
      stages: St extends (...args: never[]) => unknown
        ? (ctx: StageContext<A, S>) => StagesDef<StageNamesOf<T>>
        : StagesDef<StageNamesOf<T>>;
      target?: StageNamesOf<T>;
    }
  : unknown;

/** Each image checked against its own stage names, so `from`, `target` and `copy({ from })` typos fail. */
export type ImagesDef<A extends ArgSpecs, S extends SecretSpecs, I> = {
  [K in keyof I]: CheckedImage<A, S, I[K]>;
};

export interface Config<
  A extends ArgSpecs = ArgSpecs,
  S extends SecretSpecs = SecretSpecs,
  I extends ImagesShape<A, S> = ImagesShape<A, S>,
> {
  args?: A;
  secrets?: S;
  images: I & NoInfer<ImagesDef<A, S, I>>;
}

/**
 * A config with its type parameters erased, as the loader and compiler see it. Every typed config
 * is one: stage functions take `never`, since a function of any particular args is still a function.
 */
export interface AnyConfig {
  args?: ArgSpecs;
  secrets?: SecretSpecs;
  images: Record<string, AnyImageDef>;
}

export type AnyImageDef =
  | (ImageCommon & {
      stages: Record<string, StageDef<string>> | ((ctx: never) => Record<string, LooseStageDef>);
      target?: string;
    })
  | (ImageCommon & { stage: StageDef<never> | ((ctx: never) => StageDef<never>) });
