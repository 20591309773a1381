/**
 * `npm run bench`: drydock's engine against BuildKit on a generated monorepo (see workload.ts),
 * in one run, scenario by scenario: cold, no-op, one source file edited, one asset edited, one
 * file touched. Prints a table and the goals, writes bench/results/latest.json, and keeps each
 * build's output under bench/results/logs/. Exits 0 when goals are missed (it is a measurement),
 * non-zero when a build fails.
 *
 * Environment: BENCH_REPEAT (warm scenarios run this many times, the median is reported; default 5),
 * BENCH_KEEP=1 (keep the temp dir), BENCH_SKIP_DRYDOCK=1 (BuildKit side only),
 * BENCH_CPU_PROF=1 (drydock runs under node --cpu-prof; profiles land in the logs folder),
 * BENCH_WATCH_EDITS (edits per kind in the watch section; default 20), BENCH_WATCH_REBUILDS
 * (consecutive rebuilds for the watch memory check; default 500; 0 skips it).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, tail, type MemoryPeak, type Run } from './proc.js';
import {
  percentile,
  rssMB,
  timeEdits,
  WatchProcess,
  type WatchEdit,
  type WatchKindResult,
  type WatchMemoryResult,
} from './watch.js';
import {
  BASE_IMAGES,
  EDIT_ASSET,
  EDIT_SOURCE,
  IMAGES,
  TOUCH_FILE,
  editAsset,
  editSource,
  generateWorkload,
} from './workload.js';

const DOCKER = '/usr/bin/docker';
const MB = 1024 * 1024;
const MEMORY_POLL_MS = 50;

/** The repository root: the nearest folder above this file with cli/bin/drydock.cjs. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'cli/bin/drydock.cjs'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (cli/bin/drydock.cjs) above ' + import.meta.url);
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();
// The executable as users run it (its launcher, see cli/bin/drydock).
const CLI = join(ROOT, 'cli/bin/drydock');
const RESULTS = join(ROOT, 'bench/results');
const LOGS = join(RESULTS, 'logs');
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 5) || 5);
const SKIP_DRYDOCK = process.env.BENCH_SKIP_DRYDOCK === '1';
const WATCH_EDITS = Math.max(1, Number(process.env.BENCH_WATCH_EDITS ?? 20) || 20);
const WATCH_REBUILDS = Math.max(0, Number(process.env.BENCH_WATCH_REBUILDS ?? 500));
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';

class BuildFailed extends Error {}

// ---------------------------------------------------------------------------------------------
// The two builders

interface BakeFile {
  target: Record<string, { context: string; dockerfile: string; target?: string; tags?: string[] }>;
}

interface Builders {
  work: string;
  home: string;
  /** Scratch space of this run. */
  tmp: string;
  bake: BakeFile;
  dockerfiles: string;
}

function drydockEnv(home: string): NodeJS.ProcessEnv {
  return {
    DRYDOCK_HOME: home,
    // Base images come from the bench's loopback mirror, as dockerd's do (registry-mirrors).
    DRYDOCK_REGISTRY_MIRRORS: process.env.DRYDOCK_REGISTRY_MIRRORS ?? 'docker.io=http://127.0.0.1:5000',
    NO_COLOR: '1',
  };
}

function drydock(args: readonly string[], home: string, label: string, memory = true): Promise<Run> {
  // A profile needs node's own flags (not allowed in NODE_OPTIONS): the entry script runs under node.
  const prof = ['--cpu-prof', '--cpu-prof-dir', LOGS, '--cpu-prof-name', `${label}.cpuprofile`];
  const [command, argv] = CPU_PROF ? [process.execPath, [...prof, `${CLI}.cjs`]] : [CLI, []];
  return run(command, [...argv, '--no-color', ...args], {
    cwd: ROOT,
    env: drydockEnv(home),
    cpuTime: true,
    ...(memory ? { memoryIntervalMs: MEMORY_POLL_MS } : {}),
  });
}

function docker(args: readonly string[]): Promise<Run> {
  return run(DOCKER, args, { cwd: ROOT, env: { DOCKER_BUILDKIT: '1' } });
}

async function log(label: string, runs: readonly Run[]): Promise<void> {
  const text = runs
    .map((r) => `$ ${r.command}\n# exit ${r.code} after ${r.seconds.toFixed(3)} s\n${r.stdout}${r.stderr}`)
    .join('\n');
  await writeFile(join(LOGS, `${label}.log`), text);
}

function check(r: Run): Run {
  if (r.code !== 0) throw new BuildFailed(tail(r));
  return r;
}

interface Measured {
  seconds: number;
  memory?: MemoryPeak;
  /** user + system CPU seconds of the process tree (RUN-step containers included). */
  cpuSeconds?: number;
}

/** `drydock build -c <workload>`: every image, into the store only (no --load, no output). */
async function drydockBuild(b: Builders, label: string): Promise<Measured> {
  const r = await drydock(['build', '-c', b.work], b.home, `${label}-drydock`);
  await log(`${label}-drydock`, [r]);
  check(r);
  return {
    seconds: r.seconds,
    ...(r.memory ? { memory: r.memory } : {}),
    ...(r.cpu ? { cpuSeconds: r.cpu.user + r.cpu.system } : {}),
  };
}

function tagOf(b: Builders, image: string): string {
  return b.bake.target[image]?.tags?.[0] ?? `drydock-bench/${image}:latest`;
}

/**
 * BuildKit: the emitted Dockerfile of every image, `docker build` each with its tag, all three at
 * once (drydock builds its images concurrently too); the wall-clock time of the whole.
 */
async function buildkitBuild(b: Builders, label: string): Promise<Measured> {
  const start = process.hrtime.bigint();
  const runs = await Promise.all(
    IMAGES.map((image) => {
      const t = b.bake.target[image];
      if (!t) throw new Error(`docker-bake.json has no target ${image}`);
      const context = resolve(b.dockerfiles, t.context);
      const dockerfile = resolve(context, t.dockerfile);
      return docker([
        'build',
        '--progress=plain',
        '-f',
        dockerfile,
        ...(t.target ? ['--target', t.target] : []),
        '-t',
        tagOf(b, image),
        context,
      ]);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await log(`${label}-buildkit`, runs);
  runs.forEach(check);
  return { seconds };
}

/**
 * BuildKit's cold start: its build cache pruned, the built tags and the base tags removed. docker
 * 20.10 keeps the base images' layers unpacked all the same (checked: after `docker builder prune
 * -af` and `docker image prune -af`, `FROM node:20-slim` resolves in 0.1 s, nothing pulled), so
 * BuildKit's cold build never pulls or unpacks its bases. drydock's `cold` does (empty store);
 * `cold, bases pulled` gives drydock the same head start.
 */
async function buildkitCold(b: Builders): Promise<void> {
  check(await docker(['builder', 'prune', '-af']));
  for (const image of [...IMAGES.map((i) => tagOf(b, i)), ...BASE_IMAGES]) await docker(['rmi', '-f', image]);
}

/** An empty store holding only the workload's base images, pulled and unpacked (untimed). */
async function seedBases(b: Builders, tmp: string): Promise<void> {
  const dir = join(tmp, 'bases');
  await mkdir(dir, { recursive: true });
  const images = BASE_IMAGES.map((ref, i) => `b${i}: { stage: { from: '${ref}', env: { SEED: '1' } } }`);
  await writeFile(
    join(dir, 'images.config.ts'),
    `import { defineConfig } from 'drydock';\nexport default defineConfig({ images: { ${images.join(', ')} } });\n`,
  );
  const r = await drydock(['build', '-c', dir], b.home, 'seed-bases', false);
  await log('seed-bases', [r]);
  check(r);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Scenario {
  key: string;
  title: string;
  repeats: number;
  /** Changes the workload before each round (both builders then see the same tree). */
  edit?: (work: string, round: number) => Promise<void> | void;
  cold?: boolean;
  /** drydock starts cold but with the base images already pulled (as BuildKit's cold start has them). */
  seedBases?: boolean;
  /** drydock/BuildKit at most this (the goal); null: reported only. */
  goal: number | null;
}

const SCENARIOS: Scenario[] = [
  { key: 'cold', title: 'cold (empty store: bases pulled too)', repeats: 1, cold: true, goal: null },
  { key: 'coldBases', title: 'cold, bases pulled', repeats: 1, cold: true, seedBases: true, goal: 1.0 },
  { key: 'noop', title: 'no-op rebuild', repeats: REPEAT, goal: 0.5 },
  {
    key: 'editSource',
    title: `edit 1 source file`,
    repeats: REPEAT,
    edit: (work, round) => editSource(work, round),
    goal: 0.5,
  },
  {
    key: 'editAsset',
    title: `edit 1 asset`,
    repeats: REPEAT,
    edit: (work, round) => editAsset(work, round),
    goal: 0.5,
  },
  {
    key: 'touch',
    title: 'touch 1 file (mtime)',
    repeats: REPEAT,
    edit: async (work, round) => {
      const when = new Date(Date.UTC(2030, 0, 1) + round * 1000);
      await utimes(join(work, TOUCH_FILE), when, when);
    },
    goal: 0.5,
  },
];

interface ScenarioResult {
  title: string;
  drydockSeconds: number | null;
  buildkitSeconds: number;
  ratio: number | null;
  goalRatio: number | null;
  drydockCpuSeconds: number | null;
  drydockPeakTreeMB: number | null;
  drydockPeakMainMB: number | null;
  drydockPeakWithContainersMB: number | null;
  rounds: Record<
    string,
    { drydockSeconds: number | null; drydockCpuSeconds: number | null; buildkitSeconds: number; loadAverage: number }
  >;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

async function runScenario(b: Builders, s: Scenario, editRound: { n: number }): Promise<ScenarioResult> {
  const rounds: ScenarioResult['rounds'] = {};
  const d: number[] = [];
  const k: number[] = [];
  const cpu: number[] = [];
  const peak = { tree: 0, main: 0, all: 0 };
  for (let i = 1; i <= s.repeats; i++) {
    if (s.edit) await s.edit(b.work, ++editRound.n);
    const loadAverage = Math.round(loadavg()[0]! * 100) / 100;
    const label = s.repeats > 1 ? `${s.key}-${i}` : s.key;
    let dry: Measured | undefined;
    if (!SKIP_DRYDOCK) {
      if (s.cold) await rm(b.home, { recursive: true, force: true });
      if (s.seedBases) await seedBases(b, b.tmp);
      dry = await drydockBuild(b, label);
      d.push(dry.seconds);
      if (dry.cpuSeconds !== undefined) cpu.push(dry.cpuSeconds);
      if (dry.memory) {
        peak.tree = Math.max(peak.tree, dry.memory.tree);
        peak.main = Math.max(peak.main, dry.memory.mainHwm);
        peak.all = Math.max(peak.all, dry.memory.withContainers);
      }
    }
    if (s.cold) await buildkitCold(b);
    const bk = await buildkitBuild(b, label);
    k.push(bk.seconds);
    rounds[String(i)] = {
      drydockSeconds: dry ? round3(dry.seconds) : null,
      drydockCpuSeconds: dry?.cpuSeconds ?? null,
      buildkitSeconds: round3(bk.seconds),
      loadAverage,
    };
    process.stderr.write(
      `[bench] ${label}: drydock ${dry ? dry.seconds.toFixed(2) + ' s' : 'skipped'}, BuildKit ${bk.seconds.toFixed(2)} s\n`,
    );
  }
  const dm = d.length ? median(d) : null;
  const km = median(k);
  return {
    title: s.title,
    drydockSeconds: dm === null ? null : round3(dm),
    buildkitSeconds: round3(km),
    ratio: dm === null ? null : round3(dm / km),
    goalRatio: s.goal,
    drydockCpuSeconds: cpu.length ? round3(median(cpu)) : null,
    drydockPeakTreeMB: SKIP_DRYDOCK ? null : mb(peak.tree),
    drydockPeakMainMB: SKIP_DRYDOCK ? null : mb(peak.main),
    drydockPeakWithContainersMB: SKIP_DRYDOCK ? null : mb(peak.all),
    rounds,
  };
}

// ---------------------------------------------------------------------------------------------
// Watch: edit-to-image latency in a warm `drydock build --watch`, against BuildKit's rebuild

interface WatchReport {
  kinds: Record<string, WatchKindResult>;
  /** A COPY-only change on an example (examples/monorepo, image web): p50 ms. */
  example: { title: string; edits: number; p50Ms: number; p95Ms: number };
  memory: WatchMemoryResult | null;
  note: string;
}

function watchProcess(args: readonly string[], home: string): WatchProcess {
  return new WatchProcess(
    CLI,
    ['--no-color', 'build', '--watch', '--progress', 'json', ...args],
    drydockEnv(home),
    ROOT,
  );
}

const ready = (images: readonly string[]) => {
  const left = new Set(images);
  return (e: Record<string, unknown>) => {
    if (e.event === 'build-finished') left.delete(e.image as string);
    return left.size === 0;
  };
};

async function watchSection(b: Builders, tmp: string, editRound: { n: number }): Promise<WatchReport> {
  const kinds: WatchEdit[] = [
    {
      key: 'asset',
      title: "edit 1 asset (only COPY'd, 20,000-file layer)",
      image: 'assets',
      edit: (round) => editAsset(b.work, round),
    },
    { key: 'source', title: 'edit 1 source file (feeds a RUN step)', image: 'api', edit: (r) => editSource(b.work, r) },
  ];
  const w = watchProcess(['-c', b.work], b.home);
  const samples: Record<string, number[]> = {};
  let memory: WatchMemoryResult | null = null;
  try {
    await w.next(ready(IMAGES), 0);
    for (const kind of kinds) {
      const s = await timeEdits(w, kind, WATCH_EDITS, editRound.n + 1);
      editRound.n += WATCH_EDITS;
      samples[kind.key] = s;
      process.stderr.write(
        `[bench] watch ${kind.key}: p50 ${percentile(s, 50).toFixed(0)} ms, p95 ${percentile(s, 95).toFixed(0)} ms\n`,
      );
    }
    if (WATCH_REBUILDS > 0) {
      const rss: number[] = [];
      const step = Math.max(1, Math.round(WATCH_REBUILDS / 10));
      for (let done = 0; done < WATCH_REBUILDS; done += step) {
        const n = Math.min(step, WATCH_REBUILDS - done);
        await timeEdits(w, kinds[1]!, n, editRound.n + 1);
        editRound.n += n;
        rss.push(rssMB(w.pid));
      }
      memory = { rebuilds: WATCH_REBUILDS, rssMB: rss, growthMB: Math.round((rss.at(-1)! - rss[0]!) * 10) / 10 };
      process.stderr.write(`[bench] watch memory over ${WATCH_REBUILDS} rebuilds: ${rss.join(', ')} MB\n`);
    }
    if (w.failures().length > 0) throw new BuildFailed(JSON.stringify(w.failures()[0]));
  } finally {
    await w.stop();
  }
  // BuildKit's rebuild for the same edits, measured after the watch stopped (nothing else running).
  const kindResults: Record<string, WatchKindResult> = {};
  for (const kind of kinds) {
    const k: number[] = [];
    for (let i = 0; i < 3; i++) {
      kind.edit(++editRound.n);
      k.push((await buildkitBuild(b, `watch-${kind.key}-buildkit-${i + 1}`)).seconds);
    }
    const s = samples[kind.key]!;
    const bk = median(k);
    const p50 = percentile(s, 50);
    kindResults[kind.key] = {
      title: kind.title,
      edits: s.length,
      p50Ms: Math.round(p50),
      p95Ms: Math.round(percentile(s, 95)),
      buildkitSeconds: round3(bk),
      ratio: round3(p50 / 1000 / bk),
      samplesMs: s.map((x) => Math.round(x)),
    };
  }
  return {
    kinds: kindResults,
    example: await watchExample(tmp),
    memory,
    note: "ms from the file write to the image's build-finished event of drydock build --watch --progress json; BuildKit: docker build of the three images after the same edit, median of 3",
  };
}

/** examples/monorepo, image web (a static site COPY'd onto busybox): a COPY-only change. */
async function watchExample(tmp: string): Promise<WatchReport['example']> {
  const root = join(tmp, 'example');
  const dir = join(root, 'monorepo');
  await cp(join(ROOT, 'examples/monorepo'), dir, { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const page = join(dir, 'services/web/public/index.html');
  const original = await readFile(page, 'utf8');
  const w = watchProcess(['-c', dir, 'web'], join(tmp, 'home-example'));
  try {
    await w.next(ready(['web']), 0);
    const s = await timeEdits(
      w,
      {
        key: 'example',
        title: '',
        image: 'web',
        edit: (round) => writeFileSync(page, `${original}<!-- edit ${round} -->\n`),
      },
      WATCH_EDITS,
      1,
    );
    process.stderr.write(`[bench] watch example (monorepo web): p50 ${percentile(s, 50).toFixed(0)} ms\n`);
    return {
      title: 'examples/monorepo web: edit services/web/public/index.html (COPY only)',
      edits: s.length,
      p50Ms: Math.round(percentile(s, 50)),
      p95Ms: Math.round(percentile(s, 95)),
    };
  } finally {
    await w.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Reproducibility: two builds from two empty stores, OCI layouts compared

interface Reproducibility {
  identical: boolean | null;
  /** image → digest from store A / store B. */
  digests: Record<string, { a: string; b: string }>;
  note: string;
}

/** Manifest digests in an OCI layout's index.json (a directory or a tar archive), by ref name. */
async function layoutDigests(dest: string): Promise<Record<string, string>> {
  let text: string;
  if (existsSync(join(dest, 'index.json'))) text = await readFile(join(dest, 'index.json'), 'utf8');
  else {
    const r = await run('tar', ['-xOf', dest, 'index.json']);
    if (r.code !== 0) throw new Error(`no index.json in ${dest}: ${r.stderr}`);
    text = r.stdout;
  }
  const index = JSON.parse(text) as { manifests?: { digest: string; annotations?: Record<string, string> }[] };
  const out: Record<string, string> = {};
  for (const [i, m] of (index.manifests ?? []).entries()) {
    const name = m.annotations?.['org.opencontainers.image.ref.name'] ?? m.annotations?.['io.containerd.image.name'];
    out[name ?? `#${i}`] = m.digest;
  }
  return out;
}

async function reproducibility(b: Builders, tmp: string): Promise<Reproducibility> {
  const digests: Reproducibility['digests'] = {};
  const per: Record<'a' | 'b', Record<string, string>> = { a: {}, b: {} };
  for (const side of ['a', 'b'] as const) {
    const home = join(tmp, `home-${side}`);
    await rm(home, { recursive: true, force: true });
    const dest = (image: string) => join(tmp, `oci-${side}`, image);
    const label = `digest-${side}`;
    const r = await drydock(
      ['build', '-c', b.work, '--output', `type=oci,dest=${dest('{image}')}`],
      home,
      label,
      false,
    );
    await log(label, [r]);
    check(r);
    for (const image of IMAGES) {
      for (const [name, digest] of Object.entries(await layoutDigests(dest(image))))
        per[side][`${image} ${name}`] = digest;
    }
  }
  for (const name of new Set([...Object.keys(per.a), ...Object.keys(per.b)])) {
    digests[name] = { a: per.a[name] ?? '(missing)', b: per.b[name] ?? '(missing)' };
  }
  const names = Object.keys(digests);
  const identical = names.length > 0 && names.every((n) => digests[n]!.a === digests[n]!.b);
  return {
    identical,
    digests,
    note: 'drydock build -c <workload> --output type=oci,dest=<dir>/{image}, from two empty DRYDOCK_HOMEs',
  };
}

// ---------------------------------------------------------------------------------------------
// Report

interface Goal {
  goal: string;
  measured: string;
  pass: boolean | null;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function table(results: Record<string, ScenarioResult>): string {
  const head = [
    'scenario',
    'drydock s',
    'BuildKit s',
    'ratio d/B',
    'drydock CPU s',
    'drydock peak MB',
    '(main)',
    '(+RUN)',
  ];
  const rows = Object.values(results).map((r) => [
    r.title,
    r.drydockSeconds === null ? '-' : r.drydockSeconds.toFixed(2),
    r.buildkitSeconds.toFixed(2),
    r.ratio === null ? '-' : r.ratio.toFixed(2) + '×',
    r.drydockCpuSeconds === null ? '-' : r.drydockCpuSeconds.toFixed(2),
    r.drydockPeakTreeMB === null ? '-' : r.drydockPeakTreeMB.toFixed(0),
    r.drydockPeakMainMB === null ? '-' : r.drydockPeakMainMB.toFixed(0),
    r.drydockPeakWithContainersMB === null ? '-' : r.drydockPeakWithContainersMB.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!, i > 0)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function goals(results: Record<string, ScenarioResult>, repro: Reproducibility | null): Goal[] {
  const out: Goal[] = [];
  for (const r of Object.values(results)) {
    if (r.goalRatio === null) continue;
    out.push({
      goal: `${r.title}: drydock ≤ ${r.goalRatio.toFixed(1)}× BuildKit`,
      measured: r.ratio === null ? 'not measured' : `${r.ratio.toFixed(2)}×`,
      pass: r.ratio === null ? null : r.ratio <= r.goalRatio,
    });
  }
  const peaks = Object.values(results)
    .map((r) => r.drydockPeakTreeMB)
    .filter((x): x is number => x !== null);
  const peak = peaks.length ? Math.max(...peaks) : null;
  out.push({
    goal: 'drydock peak memory < 300 MB',
    measured: peak === null ? 'not measured' : `${peak.toFixed(0)} MB`,
    pass: peak === null ? null : peak < 300,
  });
  out.push({
    goal: 'identical image digests from two empty stores',
    measured: repro?.identical === null || !repro ? 'not measured' : repro.identical ? 'identical' : 'different',
    pass: repro?.identical ?? null,
  });
  return out;
}

function watchGoals(watch: WatchReport | null): Goal[] {
  if (!watch) return [];
  const out: Goal[] = [
    {
      goal: 'watch: COPY-only change on an example, p50 < 250 ms',
      measured: `${watch.example.p50Ms} ms`,
      pass: watch.example.p50Ms < 250,
    },
  ];
  for (const k of Object.values(watch.kinds)) {
    out.push({
      goal: `watch: ${k.title}, p50 ≤ 0.25× BuildKit`,
      measured: `${k.ratio.toFixed(2)}×`,
      pass: k.ratio <= 0.25,
    });
  }
  if (watch.memory) {
    const first = watch.memory.rssMB[0]!;
    out.push({
      goal: `watch: memory stable over ${watch.memory.rebuilds} rebuilds (growth < 10%)`,
      measured: `${first} → ${watch.memory.rssMB.at(-1)} MB`,
      pass: watch.memory.growthMB < first * 0.1,
    });
  }
  return out;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  let text = JSON.stringify(value, null, 2) + '\n';
  try {
    // Formatted as the repository's prettier would, so `npm run lint` accepts the committed file.
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(path)) ?? {};
    text = await prettier.format(text, { ...options, parser: 'json' });
  } catch {
    // prettier is a dev dependency; plain JSON is fine without it
  }
  await writeFile(path, text);
}

async function git(args: readonly string[]): Promise<string> {
  const r = await run('git', args, { cwd: ROOT });
  return r.code === 0 ? r.stdout.trim() : '';
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  await mkdir(LOGS, { recursive: true });
  const info = await docker(['info', '--format', '{{.ServerVersion}}']);
  if (info.code !== 0)
    throw new BuildFailed(`no Docker engine answers ${DOCKER}: run test/env/setup.sh\n${tail(info)}`);
  if (!existsSync(join(ROOT, 'cli/dist/main.js'))) throw new BuildFailed('the CLI is not built: run npm run build');
  if (!SKIP_DRYDOCK) {
    const help = await run(CLI, ['build', '--help'], { cwd: ROOT });
    if (help.code !== 0 || !/build/i.test(help.stdout)) {
      throw new BuildFailed(
        `this drydock has no build command (BENCH_SKIP_DRYDOCK=1 measures BuildKit only)\n${tail(help)}`,
      );
    }
  }

  const tmp = await mkdtemp(join(tmpdir(), 'drydock-bench-'));
  const work = join(tmp, 'workload');
  const started = new Date();
  const loadStart = Math.round(loadavg()[0]! * 100) / 100;
  process.stderr.write(`[bench] workload in ${work}, logs in ${LOGS}\n`);
  const genStart = process.hrtime.bigint();
  generateWorkload(work);
  const generateSeconds = Number(process.hrtime.bigint() - genStart) / 1e9;

  const dockerfiles = join(tmp, 'dockerfiles');
  const emit = await run(CLI, ['--no-color', 'emit', '-c', work, '-o', dockerfiles], { cwd: ROOT });
  await log('emit', [emit]);
  check(emit);
  const bake = JSON.parse(await readFile(join(dockerfiles, 'docker-bake.json'), 'utf8')) as BakeFile;
  const b: Builders = { work, home: join(tmp, 'home'), tmp, bake, dockerfiles };

  const results: Record<string, ScenarioResult> = {};
  let repro: Reproducibility | null = null;
  let watch: WatchReport | null = null;
  let failure: string | null = null;
  const editRound = { n: 0 };
  try {
    for (const s of SCENARIOS) results[s.key] = await runScenario(b, s, editRound);
    if (!SKIP_DRYDOCK) watch = await watchSection(b, tmp, editRound);
    if (!SKIP_DRYDOCK) repro = await reproducibility(b, tmp);
  } catch (e) {
    if (!(e instanceof BuildFailed)) throw e;
    failure = e.message;
  }

  const loadEnd = Math.round(loadavg()[0]! * 100) / 100;
  const goalList = [...goals(results, repro), ...watchGoals(watch)];
  const dockerVersion = (await docker(['version', '--format', '{{.Server.Version}}'])).stdout.trim();
  const report = {
    date: started.toISOString(),
    commit: await git(['rev-parse', 'HEAD']),
    dirty: (await git(['status', '--porcelain', '--untracked-files=no'])) !== '',
    machine: {
      cpus: cpus().length,
      memoryMB: Math.round(totalmem() / MB),
      node: process.version,
      docker: dockerVersion,
    },
    method: {
      drydock:
        'cli/bin/drydock build -c <workload> (the executable as npm installs it; all images, into DRYDOCK_HOME only: no --load, no --output)',
      buildkit:
        'DOCKER_BUILDKIT=1 /usr/bin/docker build -f <emitted Dockerfile> --target <t> -t <tag> <context>, the three images at once; cold = docker builder prune -af + rmi of the built and base tags (dockerd keeps the base layers unpacked regardless, so BuildKit never pulls them: compare with drydock\'s "cold, bases pulled")',
      seconds: `wall clock, process start to exit; warm scenarios: median of ${REPEAT} rounds (each round a fresh edit), cold: 1 round`,
      cpu: 'drydock CPU s: user + system seconds of the drydock process tree from /usr/bin/time (RUN-step containers included), median',
      loadAverage: { start: loadStart, end: loadEnd },
      memory: `polled every ${MEMORY_POLL_MS} ms from /proc: peak sum of RSS over the drydock process tree, RUN-step containers (below runc) left out, and so are children between fork and exec (their RSS is the parent's pages, shared copy-on-write); "main" is the node process's VmHWM; "+RUN" includes the containers`,
      edits: { editSource: EDIT_SOURCE, editAsset: EDIT_ASSET, touch: TOUCH_FILE },
      workload:
        'bench/workload.ts: api and worker (npm ci --offline of local tarballs, bundler script, node:20-slim runtime), assets (20,000 files COPY into busybox)',
      generateSeconds: round3(generateSeconds),
    },
    scenarios: results,
    watch,
    reproducibility: repro,
    goals: Object.fromEntries(goalList.map((g, i) => [String(i + 1), g])),
    failure,
  };
  await writeJson(join(RESULTS, 'latest.json'), report);

  const out: string[] = [];
  out.push('');
  out.push(
    `drydock vs BuildKit (docker ${dockerVersion}), ${cpus().length} CPUs, node ${process.version}; ` +
      `1-min load average ${loadStart.toFixed(1)} at start, ${loadEnd.toFixed(1)} at end (other work skews times)`,
  );
  out.push(table(results));
  out.push('');
  out.push(
    `memory: peak RSS summed over the drydock process tree (polled every ${MEMORY_POLL_MS} ms from /proc, RUN-step containers and not yet exec'd forks left out); (main) node's VmHWM; (+RUN) with the containers`,
  );
  if (watch) {
    out.push('');
    out.push(
      'drydock build --watch: file write → build-finished (ms), against BuildKit rebuilding after the same edit',
    );
    for (const k of Object.values(watch.kinds)) {
      out.push(
        `  ${pad(k.title, 46)}  p50 ${pad(String(k.p50Ms), 5, true)}  p95 ${pad(String(k.p95Ms), 5, true)}  BuildKit ${(k.buildkitSeconds * 1000).toFixed(0)} ms  ratio ${k.ratio.toFixed(2)}×`,
      );
    }
    out.push(
      `  ${pad(watch.example.title, 46)}  p50 ${pad(String(watch.example.p50Ms), 5, true)}  p95 ${pad(String(watch.example.p95Ms), 5, true)}`,
    );
    if (watch.memory) {
      out.push(
        `  RSS of the watch process over ${watch.memory.rebuilds} rebuilds (MB): ${watch.memory.rssMB.join(', ')}`,
      );
    }
  }
  if (repro) {
    out.push(`digests from two empty stores: ${repro.identical ? 'identical' : 'DIFFERENT'}`);
    for (const [name, d] of Object.entries(repro.digests)) {
      out.push(`  ${name}: ${d.a}${d.a === d.b ? '' : ` vs ${d.b}`}`);
    }
  }
  out.push('');
  out.push('goals:');
  const gw = Math.max(...goalList.map((g) => g.goal.length));
  for (const g of goalList) {
    out.push(`  ${pad(g.goal, gw)}  ${pad(g.measured, 12)}  ${g.pass === null ? 'n/a' : g.pass ? 'PASS' : 'FAIL'}`);
  }
  out.push('');
  out.push(`results: ${join(RESULTS, 'latest.json')}; build logs: ${LOGS}`);
  if (failure) out.push(`\nA BUILD FAILED:\n${failure}`);
  console.log(out.join('\n'));

  if (process.env.BENCH_KEEP === '1') process.stderr.write(`[bench] kept ${tmp}\n`);
  else await rm(tmp, { recursive: true, force: true });
  return failure ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof BuildFailed ? e.message : e);
    process.exit(1);
  },
);
