/** The api's domain logic, kept apart from HTTP so `node --test` can check it. */
export const quotes = [
  'Simple things should be simple, complex things should be possible.',
  'Make it work, make it right, make it fast.',
  'Premature optimization is the root of all evil.',
];

/** The quote for a 1-based id, or undefined. */
export function quote(id) {
  return Number.isInteger(id) && id >= 1 && id <= quotes.length ? quotes[id - 1] : undefined;
}
