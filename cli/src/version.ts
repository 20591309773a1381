import { readFileSync } from 'node:fs';

/** The `drydock` package's version, read from its package.json (one level above src/ and dist/). */
export function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
}
