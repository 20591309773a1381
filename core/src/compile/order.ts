import { error, type Diagnostic } from '../diagnostics/index.js';
import type { LoweredStage } from './lower.js';

/**
 * The stages a target needs, dependencies first and config order otherwise (a Dockerfile can
 * only refer to earlier stages). Reports a cycle with its path.
 */
export function orderStages(
  image: string,
  target: string,
  stages: ReadonlyMap<string, LoweredStage>,
  diagnostics: Diagnostic[],
): LoweredStage[] {
  const needed = new Set<string>();
  const visit = (name: string): void => {
    if (needed.has(name) || !stages.has(name)) return;
    needed.add(name);
    stages.get(name)!.dependsOn.forEach(visit);
  };
  visit(target);

  const ordered: LoweredStage[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const place = (name: string, trail: string[]): void => {
    const st = state.get(name);
    if (st === 'done' || !stages.has(name)) return;
    if (st === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      diagnostics.push(
        error('DD111', `image "${image}" has a stage cycle: ${cycle.join(' -> ')}`, {
          path: { image, stage: name },
          hint: 'a stage cannot build on or copy from a stage that depends on it',
        }),
      );
      return;
    }
    state.set(name, 'visiting');
    for (const dep of stages.get(name)!.dependsOn) place(dep, [...trail, name]);
    state.set(name, 'done');
    ordered.push(stages.get(name)!);
  };
  for (const name of stages.keys()) if (needed.has(name)) place(name, []);
  return ordered;
}
