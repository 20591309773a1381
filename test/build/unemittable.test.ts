/**
 * A native build does not depend on the emitter: an image that no Dockerfile can express still
 * builds, its history written with the args its stages use (engine/history.ts needs the emitted
 * Dockerfile's ARG lines only to match BuildKit's history of it).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitDockerfile, loadProject } from '@drydock/core';
import { sandbox, type Sandbox } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/unemittable', import.meta.url));

let box: Sandbox;
beforeAll(async () => {
  box = await sandbox(FIXTURE);
});
afterAll(() => box?.remove());

describe('an image no Dockerfile can express', () => {
  it('cannot be emitted, and builds natively', async () => {
    const project = await loadProject({ cwd: box.dir });
    expect(() => emitDockerfile(project.graph, 'multiline', { configFile: 'images.config.ts' })).toThrow(
      /cannot be written in a Dockerfile: the value of env MSG contains a line break/,
    );
    const r = await box.build();
    expect(r.executed).toEqual(['multiline/multiline#2']); // after the ENV node
  });
});
