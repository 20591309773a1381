import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runJob } from './jobs.js';

test('runs each job type', () => {
  assert.deepEqual(runJob({ id: 1, type: 'wordcount', input: ' a  b c ' }), { id: 1, ok: true, result: 3 });
  assert.deepEqual(runJob({ id: 2, type: 'reverse', input: 'abc' }), { id: 2, ok: true, result: 'cba' });
  assert.deepEqual(runJob({ id: 3, type: 'sum', input: [1, 2, 3] }), { id: 3, ok: true, result: 6 });
});

test('reports bad jobs instead of crashing', () => {
  assert.equal(runJob({ id: 4, type: 'nope' }).ok, false);
  assert.equal(runJob({ id: 5, type: 'sum', input: 'x' }).error, 'sum needs an array of numbers');
});
