#!/usr/bin/env node
// Image quality figures for the README: examples/preset-node built by drydock with the preset,
// natively, and the same app built by BuildKit from a typical hand-written Dockerfile (the
// Node.js guide's). For each: final image size, cold build time, no-op rebuild time and rebuild
// time after a one-line source edit; the median of several runs. Not a test: numbers to read.
//
// Usage (root, the test bench up, `npm run build` done):
//   sudo node presets/node/scripts/measure.mjs [--runs 3] [--json out.json]
//
// drydock: `drydock build` into its store, cold = an empty DRYDOCK_HOME (base image pulled from
// the bench's loopback registry); what `--load` into dockerd adds is measured apart. BuildKit:
// docker 20.10's, whose image lands in dockerd; cold = `--no-cache` (the base layers are already
// in dockerd: BuildKit's cold build has that head start).
/* global console, process, URL */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'cli/bin/drydock.cjs');
const DOCKER = '/usr/bin/docker';
const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1] || 3) || 3;
const JSON_OUT = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined;

const HANDWRITTEN = `# The Node.js guide's Dockerfile ("Dockerizing a Node.js web app"), for this app.
FROM node:20
WORKDIR /usr/src/app
COPY package*.json ./
RUN npm install
COPY . .
EXPOSE 8080
CMD [ "node", "server.js" ]
`;
const HANDWRITTEN_IGNORE = 'node_modules\nnpm-debug.log\n';

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

const work = mkdtempSync(join(tmpdir(), 'drydock-measure-node-'));
const tags = [];
try {
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  const results = { drydock: { cold: [], noop: [], edit: [], load: [] }, buildkit: { cold: [], noop: [], edit: [] } };
  for (let run = 0; run < RUNS; run++) {
    // A fresh copy per run: builds write images.lock.json, and the edit must be new each time.
    const app = join(work, `app-${run}`);
    cpSync(join(ROOT, 'examples/preset-node'), app, { recursive: true, filter: (s) => !s.includes('/dockerfiles') });
    writeFileSync(join(app, 'Dockerfile.handwritten'), HANDWRITTEN);
    writeFileSync(join(app, 'Dockerfile.handwritten.dockerignore'), HANDWRITTEN_IGNORE);
    const edit = () => appendFileSync(join(app, 'server.js'), `// edit ${run} ${Date.now()}\n`);

    const home = join(work, `home-${run}`);
    const dTag = `drydock-measure/preset-node:${run}`;
    const env = { ...process.env, DRYDOCK_HOME: home, DRYDOCK_REGISTRY_MIRRORS: 'docker.io=http://127.0.0.1:5000' };
    const drydock = (...extra) =>
      sh(process.execPath, [CLI, 'build', '-c', app, '-t', dTag, ...extra], { env }).seconds;
    tags.push(dTag);
    results.drydock.cold.push(drydock());
    results.drydock.noop.push(drydock());
    edit();
    results.drydock.edit.push(drydock());
    // What --load adds (drydock hands dockerd the whole image): a no-op build with it, minus one without.
    results.drydock.load.push(drydock('--load') - drydock());

    const bTag = `drydock-measure/handwritten:${run}`;
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
  /** The base image's size; pulled through the bench's mirror if dockerd has no image by that name. */
  const base = (ref) => {
    try {
      sh(DOCKER, ['pull', '-q', ref]);
      return size(ref);
    } catch {
      return NaN;
    }
  };
  const summary = {
    date: new Date().toISOString(),
    runs: RUNS,
    node: process.version,
    drydock: {
      sizeBytes: size(tags[0]),
      addedBytes: size(tags[0]) - base('node:20-slim'),
      ...Object.fromEntries(Object.entries(results.drydock).map(([k, v]) => [`${k}Seconds`, median(v)])),
    },
    buildkit: {
      sizeBytes: size(tags[1]),
      addedBytes: size(tags[1]) - base('node:20'),
      ...Object.fromEntries(Object.entries(results.buildkit).map(([k, v]) => [`${k}Seconds`, median(v)])),
    },
    samples: results,
  };
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(summary, null, 2) + '\n');
  const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
  const kb = (b) => (Number.isNaN(b) ? '?' : `${(b / 1e3).toFixed(1)} kB`);
  const s = (x) => `${x.toFixed(2)} s`;
  const d = summary.drydock;
  const b = summary.buildkit;
  console.log(`| | drydock + preset-node (native) | hand-written Dockerfile (BuildKit) |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| image size | ${mb(d.sizeBytes)} | ${mb(b.sizeBytes)} |`);
  console.log(`| added to the base image | ${kb(d.addedBytes)} | ${kb(b.addedBytes)} |`);
  console.log(`| cold build | ${s(d.coldSeconds)} | ${s(b.coldSeconds)} |`);
  console.log(`| no-op rebuild | ${s(d.noopSeconds)} | ${s(b.noopSeconds)} |`);
  console.log(`| rebuild after a source edit | ${s(d.editSeconds)} | ${s(b.editSeconds)} |`);
  console.log(`| \`--load\` into dockerd, on top | ${s(d.loadSeconds)} | (built in) |`);
  console.log(`\nmedian of ${RUNS} runs, ${summary.date}, node ${process.version}`);
} finally {
  for (const tag of tags) spawnSync(DOCKER, ['rmi', '-f', tag], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
