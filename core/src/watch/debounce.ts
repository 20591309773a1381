/**
 * Coalesces file events into one rebuild. An editor's save is one to three events within a few
 * ms; a formatter or `git checkout` is hundreds spread over tens of ms, with gaps. So the quiet
 * period that ends a burst starts short and grows with the burst (each event adds a little), up
 * to a cap; a burst that never goes quiet still fires after `maxWaitMs`.
 */
export interface DebounceOptions {
  /** Quiet period after a single event (ms). */
  baseMs?: number;
  /** Added to the quiet period by each further event of the burst (ms). */
  perEventMs?: number;
  /** The longest quiet period (ms). */
  maxQuietMs?: number;
  /** The longest time from a burst's first event to firing (ms). */
  maxWaitMs?: number;
}

export class Debouncer {
  private paths = new Set<string>();
  private firstAt = 0;
  private events = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly o: Required<DebounceOptions>;

  /** `fire` gets the burst's paths and when its first event arrived (performance.now()). */
  constructor(
    private readonly fire: (paths: Set<string>, firstAt: number) => void,
    options: DebounceOptions = {},
  ) {
    this.o = { baseMs: 5, perEventMs: 2, maxQuietMs: 100, maxWaitMs: 1000, ...options };
  }

  push(path: string): void {
    const now = performance.now();
    if (this.events === 0) this.firstAt = now;
    this.events++;
    this.paths.add(path);
    clearTimeout(this.timer);
    const quiet = Math.min(this.o.maxQuietMs, this.o.baseMs + this.o.perEventMs * (this.events - 1));
    const wait = Math.max(0, Math.min(quiet, this.firstAt + this.o.maxWaitMs - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Whether events are waiting to fire. */
  get pending(): boolean {
    return this.events > 0;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.events === 0) return;
    const paths = this.paths;
    const firstAt = this.firstAt;
    this.paths = new Set();
    this.events = 0;
    this.fire(paths, firstAt);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.paths.clear();
    this.events = 0;
  }
}
