#!/usr/bin/env node
// Image quality figures for the READMEs of the python, go and static presets: each preset's
// example (examples/preset-<name>) built by drydock with the preset, natively, next to the same
// app built by BuildKit from a typical hand-written Dockerfile (below). For each: final image
// size, cold build time, no-op rebuild time and rebuild time after a one-line source edit; the
// median of several runs. Not a test: numbers to read.
//
// Usage (root, the test bench up, `npm run build` done):
//   sudo node scripts/measure-presets.mjs [python] [go] [static] [--runs 3] [--json out.json]
//
// drydock: `drydock build` into its store. "cold" is an empty DRYDOCK_HOME (base images pulled
// from the bench's loopback registry and extracted); "--no-cache" executes every step with the
// base images already in the store, which is what BuildKit's `--no-cache` does (its base images
// stay in dockerd), so those two compare like with like. What `--load` into dockerd adds is
// measured apart: no-op builds with `--load` (samples `loadNoop`), reported as their median minus
// the median of the no-op builds without it, never as per-run differences (two noisy timings
// subtracted run by run can come out negative). Files written before this change hold `load`:
// those per-run differences. BuildKit is docker 20.10's; its image lands in dockerd as part of
// the build.
/* global console, process, URL */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(ROOT, 'cli/bin/drydock.cjs');
const DOCKER = '/usr/bin/docker';
const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const RUNS = Number(option('--runs') ?? 3) || 3;
const JSON_OUT = option('--json');

/** What each preset's example is compared with: the Dockerfile most guides would have you write. */
const PRESETS = {
  python: {
    edit: ['main.py', '# edit'],
    // Docker's Python guide, for this app: one stage, pip into the system Python, runs as root.
    handwritten: `FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["python", "main.py"]
`,
    ignore: '__pycache__\n*.pyc\n.venv\n',
  },
  go: {
    edit: ['main.go', '// edit'],
    // Docker's Go guide ("Build your Go image"), for this app (no go.sum: no dependencies): the
    // toolchain image is the runtime, as root.
    handwritten: `FROM golang:1.19
WORKDIR /app
COPY go.mod ./
RUN go mod download
COPY *.go ./
RUN CGO_ENABLED=0 GOOS=linux go build -o /preset-go
EXPOSE 8080
CMD ["/preset-go"]
`,
    ignore: '',
  },
  static: {
    edit: ['src/index.html', '<!-- edit -->'],
    // The usual two stages: build with node, serve the output with a small web server (nginx:alpine
    // in most guides; busybox httpd here, the one the offline bench has), as root.
    handwritten: `FROM node:20 AS build
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM busybox:1.35
COPY --from=build /app/dist /www
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
`,
    ignore: 'node_modules\ndist\n',
  },
};

function sh(file, args, options = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) {
    throw new Error(
      `${file} ${args.join(' ')} exited ${r.status}\n${(r.stderr || '').split('\n').slice(-30).join('\n')}`,
    );
  }
  return { seconds, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = (tag) => Number(sh(DOCKER, ['image', 'inspect', '-f', '{{.Size}}', tag]).stdout.trim());

function measure(name, work, tags) {
  const preset = PRESETS[name];
  const results = {
    drydock: { cold: [], noCache: [], noop: [], edit: [], loadNoop: [] },
    buildkit: { cold: [], noop: [], edit: [] },
  };
  for (let run = 0; run < RUNS; run++) {
    // A fresh copy per run: builds write images.lock.json, and the edit must be new each time.
    const app = join(work, `${name}-${run}`);
    cpSync(join(ROOT, `examples/preset-${name}`), app, { recursive: true, filter: (s) => !s.includes('/dockerfiles') });
    writeFileSync(join(app, 'Dockerfile.handwritten'), preset.handwritten);
    writeFileSync(join(app, 'Dockerfile.handwritten.dockerignore'), preset.ignore);
    const edit = () => appendFileSync(join(app, preset.edit[0]), `${preset.edit[1]} ${run} ${Date.now()}\n`);

    const dTag = `drydock-measure/preset-${name}:${run}`;
    const env = {
      ...process.env,
      DRYDOCK_HOME: join(work, `home-${name}-${run}`),
      DRYDOCK_REGISTRY_MIRRORS: 'docker.io=http://127.0.0.1:5000',
    };
    const drydock = (...extra) =>
      sh(process.execPath, [CLI, 'build', '-c', app, '-t', dTag, '--progress', 'quiet', ...extra], { env }).seconds;
    tags.push(dTag);
    results.drydock.cold.push(drydock());
    results.drydock.noCache.push(drydock('--no-cache'));
    results.drydock.noop.push(drydock());
    edit();
    results.drydock.edit.push(drydock());
    // What --load adds (drydock hands dockerd the whole image): a no-op build with it; compared
    // with the no-op builds without it by median (loadSeconds), not run by run.
    results.drydock.loadNoop.push(drydock('--load'));

    const bTag = `drydock-measure/handwritten-${name}:${run}`;
    const benv = { ...process.env, DOCKER_BUILDKIT: '1' };
    const buildkit = (...extra) =>
      sh(DOCKER, ['build', '-q', '-f', join(app, 'Dockerfile.handwritten'), '-t', bTag, ...extra, app], { env: benv })
        .seconds;
    tags.push(bTag);
    results.buildkit.cold.push(buildkit('--no-cache'));
    results.buildkit.noop.push(buildkit());
    edit();
    results.buildkit.edit.push(buildkit());
  }
  const dTag = tags.at(-2);
  const bTag = tags.at(-1);
  return {
    drydock: {
      sizeBytes: size(dTag),
      ...Object.fromEntries(Object.entries(results.drydock).map(([k, v]) => [`${k}Seconds`, median(v)])),
      loadSeconds: median(results.drydock.loadNoop) - median(results.drydock.noop),
    },
    buildkit: {
      sizeBytes: size(bTag),
      ...Object.fromEntries(Object.entries(results.buildkit).map(([k, v]) => [`${k}Seconds`, median(v)])),
    },
    user: { drydock: inspectUser(dTag), buildkit: inspectUser(bTag) },
    samples: results,
  };
}

const inspectUser = (tag) => sh(DOCKER, ['image', 'inspect', '-f', '{{.Config.User}}', tag]).stdout.trim() || 'root';

function print(name, r, date) {
  const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
  const t = (side, key) => {
    const xs = r.samples[side][key];
    const x = median(xs);
    return xs.length > 1
      ? `${x.toFixed(2)} s (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`
      : `${x.toFixed(2)} s`;
  };
  console.log(`\n## ${name}\n`);
  console.log(`| | drydock + preset-${name} (native) | hand-written Dockerfile (BuildKit) |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| image size | ${mb(r.drydock.sizeBytes)} | ${mb(r.buildkit.sizeBytes)} |`);
  console.log(`| runs as | ${r.user.drydock} | ${r.user.buildkit} |`);
  console.log(`| cold build (empty store) | ${t('drydock', 'cold')} | — |`);
  console.log(`| \`--no-cache\` build, base images at hand | ${t('drydock', 'noCache')} | ${t('buildkit', 'cold')} |`);
  console.log(`| no-op rebuild | ${t('drydock', 'noop')} | ${t('buildkit', 'noop')} |`);
  console.log(`| rebuild after a source edit | ${t('drydock', 'edit')} | ${t('buildkit', 'edit')} |`);
  // A difference of medians, so no min–max; at or below zero it is lost in the noise.
  const load = r.drydock.loadSeconds;
  console.log(
    `| \`--load\` into dockerd, on top | ${load > 0 ? `${load.toFixed(2)} s` : 'not measurable (≤ 0)'} (median of no-op builds with it − without) | (built in) |`,
  );
  console.log(`\nmedian of ${RUNS} runs (min–max), ${date}, node ${process.version}`);
}

const names = argv.filter((a) => a in PRESETS);
const chosen = names.length ? names : Object.keys(PRESETS);
const work = mkdtempSync(join(tmpdir(), 'drydock-measure-presets-'));
const tags = [];
const date = new Date().toISOString();
const summary = { date, runs: RUNS, node: process.version, presets: {} };
try {
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  for (const name of chosen) {
    summary.presets[name] = measure(name, work, tags);
    print(name, summary.presets[name], date);
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(summary, null, 2) + '\n');
} finally {
  for (const tag of tags) spawnSync(DOCKER, ['rmi', '-f', tag], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
