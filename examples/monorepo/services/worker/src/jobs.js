/** Job handlers: each takes a job's input and returns its result, or throws. */
export const handlers = {
  wordcount: (input) => String(input).split(/\s+/).filter(Boolean).length,
  reverse: (input) => [...String(input)].reverse().join(''),
  sum: (input) => {
    if (!Array.isArray(input) || !input.every((n) => typeof n === 'number'))
      throw new Error('sum needs an array of numbers');
    return input.reduce((a, b) => a + b, 0);
  },
};

/** Runs one job `{ id, type, input }` and reports `{ id, ok, result | error }`. */
export function runJob(job) {
  const handler = handlers[job?.type];
  if (!handler) return { id: job?.id ?? null, ok: false, error: `unknown job type ${JSON.stringify(job?.type)}` };
  try {
    return { id: job.id ?? null, ok: true, result: handler(job.input) };
  } catch (err) {
    return { id: job.id ?? null, ok: false, error: err.message };
  }
}
