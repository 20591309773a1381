#!/usr/bin/env node
// Rewrites the CLI reference in README.md (between <!-- cli-help:start --> and <!-- cli-help:end -->)
// from the real `drydock --help`, so the two cannot drift; test/cli/help.test.ts fails when they do.
// Usage (after npm run build): node cli/scripts/sync-readme.mjs [--check]
/* global console, process, URL */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const START = '<!-- cli-help:start -->';
const END = '<!-- cli-help:end -->';
const readme = fileURLToPath(new URL('../../README.md', import.meta.url));
const bin = fileURLToPath(new URL('../bin/drydock.cjs', import.meta.url));

const help = execFileSync(process.execPath, [bin, '--help'], {
  encoding: 'utf8',
  env: { ...process.env, NO_COLOR: '1' },
});
const text = readFileSync(readme, 'utf8');
const start = text.indexOf(START);
const end = text.indexOf(END);
if (start < 0 || end < start) {
  console.error(`README.md has no ${START} … ${END} block to fill`);
  process.exit(1);
}
const block = `${START}\n\n\`\`\`text\n${help}\`\`\`\n\n${END}`;
const next = text.slice(0, start) + block + text.slice(end + END.length);

if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('README.md: the CLI reference differs from `drydock --help`; run npm run docs:cli');
    process.exit(1);
  }
  console.log('README.md: the CLI reference is up to date');
} else if (next !== text) {
  writeFileSync(readme, next);
  console.log('README.md: CLI reference updated from `drydock --help`');
} else {
  console.log('README.md: the CLI reference is up to date');
}
