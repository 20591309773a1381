/**
 * The benchmark's workload, generated into a directory with deterministic content (same bytes on
 * every run and machine; a seeded PRNG, no clocks):
 *
 *   images.config.ts            three images: `api`, `worker` (node services) and `assets` (busybox)
 *   services/<svc>/package.json + package-lock.json
 *   services/<svc>/vendor/*.tgz  the service's dependencies as local npm tarballs (`file:` deps)
 *   services/<svc>/scripts/build.mjs
 *   services/<svc>/src/*.js      the service's modules
 *   assets/                      20,000 files in 20 × 50 folders
 *
 * Each service builds in three stages: `deps` runs `npm ci --offline` of a real lockfile whose
 * packages are local tarballs (real npm work: verify integrity, extract ~1,000 files; no network,
 * so the benchmark does not depend on the npm registry or this machine's TLS setup), `build` runs a
 * dependency-free bundler script that writes dist/, and `runtime` is node:20-slim with the
 * production node_modules and dist/ copied in. `assets` COPYs the asset tree into busybox.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const SERVICES = ['api', 'worker'] as const;
export type Service = (typeof SERVICES)[number];
export const IMAGES = ['api', 'worker', 'assets'] as const;
/** The images the workload builds FROM: a cold build starts without them on both sides. */
export const BASE_IMAGES = ['node:20-slim', 'busybox:latest'] as const;

export const ASSET_GROUPS = 20;
export const ASSET_DIRS_PER_GROUP = 50;
export const ASSET_FILES_PER_DIR = 20;
export const ASSET_COUNT = ASSET_GROUPS * ASSET_DIRS_PER_GROUP * ASSET_FILES_PER_DIR; // 20,000

const MODULES_PER_SERVICE = 120;
const VENDOR_PACKAGES = ['bench-strings', 'bench-math', 'bench-router', 'bench-log'] as const;
const FILES_PER_PACKAGE = 250;

/** The files the scenarios change, relative to the workload root. */
export const EDIT_SOURCE = 'services/api/src/mod-007.js';
export const EDIT_ASSET = 'assets/g07/d23/f011.json';
export const TOUCH_FILE = 'services/worker/src/mod-042.js';

/** Mulberry32: a small, fast, seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

const WORDS = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa ' +
  'quebec romeo sierra tango uniform victor whiskey xray yankee zulu anchor harbor keel hull mast ' +
  'rudder stern bow deck cargo crane dock pier quay tide berth ballast bollard'
).split(' ');

function words(rand: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]!);
  return out.join(' ');
}

function write(root: string, rel: string, content: string | Buffer, mode?: number): void {
  const path = join(root, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content, mode === undefined ? undefined : { mode });
}

// ---------------------------------------------------------------------------------------------
// npm tarballs (ustar, gzip), as `npm pack` lays them out: every entry under `package/`.

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) => h.write(value, offset, length, 'ascii');
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0';
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  field(name, 0, 100);
  field(octal(0o644, 8), 100, 8);
  field(octal(0, 8), 108, 8);
  field(octal(0, 8), 116, 8);
  field(octal(size, 12), 124, 12);
  field(octal(499162500, 12), 136, 12); // npm's fixed mtime (1985-10-26)
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  field(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

function tgz(files: ReadonlyMap<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const body = Buffer.from(text);
    parts.push(tarHeader(`package/${name}`, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

function vendorPackage(service: Service, pkg: string): { file: string; tarball: Buffer; integrity: string } {
  const rand = prng(seedOf(`${service}/${pkg}`));
  const files = new Map<string, string>();
  files.set(
    'package.json',
    JSON.stringify({ name: pkg, version: '1.0.0', license: 'MIT', main: 'index.js' }, null, 2) + '\n',
  );
  const requires: string[] = [];
  for (let i = 0; i < FILES_PER_PACKAGE; i++) {
    const name = `lib/part-${String(i).padStart(3, '0')}.js`;
    requires.push(`  require('./${name}'),`);
    files.set(
      name,
      `'use strict';\n// ${words(rand, 12)}\n` +
        `const table = ${JSON.stringify(words(rand, 40 + Math.floor(rand() * 80)).split(' '))};\n` +
        `module.exports = (x) => table[Math.abs(x | 0) % table.length] + ${i};\n`,
    );
  }
  files.set(
    'index.js',
    `'use strict';\nconst parts = [\n${requires.join('\n')}\n];\n` +
      `module.exports = (x) => parts.map((p) => p(x)).join(' ').length;\n`,
  );
  const tarball = tgz(files);
  const integrity = 'sha512-' + createHash('sha512').update(tarball).digest('base64');
  return { file: `vendor/${pkg}-1.0.0.tgz`, tarball, integrity };
}

// ---------------------------------------------------------------------------------------------

const BUILD_SCRIPT = `// Bundles src/*.js into dist/bundle.js (CommonJS modules in a registry, comments stripped) and
// writes dist/manifest.json with each module's sha256. Deterministic: no clocks, sorted inputs.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

const names = readdirSync('src').filter((n) => n.endsWith('.js')).sort();
const manifest = {};
let out = "'use strict';\\nconst defs = {};\\nconst cache = {};\\n";
out += 'const req = (n) => cache[n] || (cache[n] = { exports: {} }, defs[n](cache[n], cache[n].exports, req), cache[n]).exports;\\n';
for (const name of names) {
  const code = readFileSync('src/' + name, 'utf8')
    .split('\\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\\n')
    .replace(/require\\('\\.\\/([^']+)'\\)/g, (_, m) => 'req(' + JSON.stringify(m) + ')');
  manifest[name] = createHash('sha256').update(code).digest('hex');
  out += 'defs[' + JSON.stringify(name) + '] = function (module, exports, req) {\\n' + code + '\\n};\\n';
}
out += "module.exports = req('main.js');\\n";
mkdirSync('dist', { recursive: true });
writeFileSync('dist/bundle.js', out);
writeFileSync('dist/manifest.json', JSON.stringify(manifest, null, 2) + '\\n');
console.log('bundled ' + names.length + ' modules, ' + out.length + ' bytes');
`;

function service(root: string, svc: Service): void {
  const dir = `services/${svc}`;
  const rand = prng(seedOf(svc));
  const vendored = VENDOR_PACKAGES.map((pkg) => ({ pkg, ...vendorPackage(svc, pkg) }));
  for (const v of vendored) write(root, `${dir}/${v.file}`, v.tarball);

  const dependencies = Object.fromEntries(vendored.map((v) => [v.pkg, `file:${v.file}`]));
  const manifest = { name: `bench-${svc}`, version: '1.0.0', private: true, license: 'MIT', dependencies };
  write(root, `${dir}/package.json`, JSON.stringify(manifest, null, 2) + '\n');
  const lock = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: manifest.name, version: manifest.version, license: 'MIT', dependencies },
      ...Object.fromEntries(
        vendored.map((v) => [
          `node_modules/${v.pkg}`,
          { version: '1.0.0', resolved: `file:${v.file}`, integrity: v.integrity, license: 'MIT' },
        ]),
      ),
    },
  };
  write(root, `${dir}/package-lock.json`, JSON.stringify(lock, null, 2) + '\n');
  write(root, `${dir}/.dockerignore`, 'node_modules\ndist\n');
  write(root, `${dir}/scripts/build.mjs`, BUILD_SCRIPT);

  for (let i = 0; i < MODULES_PER_SERVICE; i++) {
    const next = i + 1 < MODULES_PER_SERVICE ? `require('./mod-${String(i + 1).padStart(3, '0')}.js')` : '() => 0';
    const lines = [`// ${svc} module ${i}: ${words(rand, 10)}`, `const next = ${next};`];
    const consts: string[] = [];
    for (let j = 0; j < 20; j++) {
      consts.push(`c${j}`);
      lines.push(`const c${j} = ${JSON.stringify(words(rand, 6))}.length * ${Math.floor(rand() * 1000)};`);
    }
    lines.push(`module.exports = (x) => (x + ${consts.join(' + ')}) % 9973 + next(x);`);
    write(root, `${dir}/src/mod-${String(i).padStart(3, '0')}.js`, lines.join('\n') + '\n');
  }
  const deps = VENDOR_PACKAGES.map((p) => `require(${JSON.stringify(p)})`).join(', ');
  write(
    root,
    `${dir}/src/main.js`,
    `// ${svc} entry point\nconst chain = require('./mod-000.js');\nconst deps = [${deps}];\n` +
      `const value = chain(7) + deps.reduce((n, d) => n + d(7), 0);\n` +
      `console.log(${JSON.stringify(svc)} + ' ' + value);\nmodule.exports = value;\n`,
  );
}

const ASSET_KINDS = ['json', 'svg', 'txt', 'css'] as const;

function asset(rand: () => number, kind: (typeof ASSET_KINDS)[number], id: string): string {
  const size = 64 + Math.floor(rand() * rand() * 4000); // mostly small, a few up to ~4 KB
  switch (kind) {
    case 'json':
      return JSON.stringify({ id, text: words(rand, Math.ceil(size / 7)) }) + '\n';
    case 'svg':
      return `<svg xmlns="http://www.w3.org/2000/svg" id="${id}"><title>${words(rand, Math.ceil(size / 7))}</title></svg>\n`;
    case 'css':
      return `.${id.replace(/\//g, '-')} { content: "${words(rand, Math.ceil(size / 7))}"; }\n`;
    default:
      return words(rand, Math.ceil(size / 7)) + '\n';
  }
}

function assets(root: string): void {
  const rand = prng(seedOf('assets'));
  for (let g = 0; g < ASSET_GROUPS; g++) {
    for (let d = 0; d < ASSET_DIRS_PER_GROUP; d++) {
      const dir = join(root, 'assets', `g${String(g).padStart(2, '0')}`, `d${String(d).padStart(2, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < ASSET_FILES_PER_DIR; f++) {
        const kind = ASSET_KINDS[(g + d + f) % ASSET_KINDS.length]!;
        const id = `g${g}/d${d}/f${f}`;
        writeFileSync(join(dir, `f${String(f).padStart(3, '0')}.${kind}`), asset(rand, kind, id));
      }
    }
  }
}

const CONFIG = `// Generated by bench/workload.ts: two node services and a 20,000-file asset image.
import { cache, copy, defineConfig, run, type StagesDef } from 'drydock';

const nodeService = (name: string) => ({
  context: \`services/\${name}\`,
  tags: [\`drydock-bench/\${name}:latest\`],
  stages: (): StagesDef<'deps' | 'build' | 'runtime'> => ({
    deps: {
      from: 'node:20-slim',
      workdir: '/app',
      env: { NPM_CONFIG_UPDATE_NOTIFIER: 'false' },
      steps: [
        copy(['package.json', 'package-lock.json'], './'),
        copy('vendor', './vendor'),
        run('npm ci --offline --omit=dev --no-audit --no-fund --loglevel=error', { mounts: [cache('/root/.npm')] }),
      ],
    },
    build: {
      from: 'deps',
      steps: [copy('scripts', './scripts'), copy('src', './src'), run('node scripts/build.mjs')],
    },
    runtime: {
      from: 'node:20-slim',
      workdir: '/app',
      env: { NODE_ENV: 'production' },
      steps: [
        copy('package.json', './'),
        copy('/app/node_modules', './node_modules', { from: 'deps' }),
        copy('/app/dist', './dist', { from: 'build' }),
      ],
      user: 'node',
      cmd: ['node', 'dist/bundle.js'],
    },
  }),
});

export default defineConfig({
  images: {
    api: { ...nodeService('api'), target: 'runtime' },
    worker: { ...nodeService('worker'), target: 'runtime' },
    assets: {
      context: 'assets',
      tags: ['drydock-bench/assets:latest'],
      stage: () => ({
        from: 'busybox:latest',
        steps: [copy('.', '/srv/assets')],
        cmd: ['ls', '/srv/assets'],
      }),
    },
  },
});
`;

/** Writes the workload into `root` (an empty or missing directory). */
export function generateWorkload(root: string): void {
  mkdirSync(root, { recursive: true });
  write(root, 'package.json', JSON.stringify({ name: 'drydock-bench-workload', private: true, type: 'module' }) + '\n');
  write(root, 'images.config.ts', CONFIG);
  for (const svc of SERVICES) service(root, svc);
  assets(root);
}

/**
 * Scenario 3: one source file of one service changes in code, not only in a comment (the bundler
 * drops comments, so a comment edit would stop at early cutoff): the bundle and the runtime image
 * change too.
 */
export function editSource(root: string, round: number): void {
  const path = join(root, EDIT_SOURCE);
  const lines = readLines(path).filter((l) => !l.startsWith('module.exports.edit = '));
  if (lines.at(-1) === '') lines.pop();
  writeFileSync(path, [...lines, `module.exports.edit = ${round};`, ''].join('\n'));
}

/** Scenario 4: one asset's content changes. */
export function editAsset(root: string, round: number): void {
  writeFileSync(join(root, EDIT_ASSET), JSON.stringify({ id: 'edited', round }) + '\n');
}

function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n');
}
