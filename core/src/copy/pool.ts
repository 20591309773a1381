/** At most `size` tasks at once; the first failure is kept and raised by `drain`. */
export class Pool {
  readonly #active = new Set<Promise<void>>();
  #error: unknown;
  #failed = false;
  constructor(readonly size: number) {}

  /** Starts `task` once a slot is free; resolves to its completion (a promise that never rejects). */
  async add(task: () => Promise<void>): Promise<{ done: Promise<void> }> {
    while (this.#active.size >= this.size) await Promise.race(this.#active);
    this.check();
    const p: Promise<void> = task()
      .catch((e: unknown) => {
        if (!this.#failed) {
          this.#failed = true;
          this.#error = e;
        }
      })
      .finally(() => this.#active.delete(p));
    this.#active.add(p);
    return { done: p };
  }

  /** Throws the first failure so far, if any. */
  check(): void {
    if (this.#failed) throw this.#error;
  }

  async drain(): Promise<void> {
    while (this.#active.size > 0) await Promise.all(this.#active);
    this.check();
  }
}
