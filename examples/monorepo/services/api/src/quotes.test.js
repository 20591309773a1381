import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quote, quotes } from './quotes.js';

test('quote ids are 1-based', () => {
  assert.equal(quote(1), quotes[0]);
  assert.equal(quote(quotes.length), quotes.at(-1));
});

test('unknown ids have no quote', () => {
  for (const id of [0, -1, 1.5, quotes.length + 1, NaN]) assert.equal(quote(id), undefined);
});
