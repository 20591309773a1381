/**
 * File events for watch mode: one inotify watch (node's fs.watch) per directory, nothing per file.
 * chokidar was the first choice, but it watches and stats every file: on the benchmark's
 * 20,000-file context it held ~200 MB and took seconds to start, and its 50 ms change throttle
 * drops a second save that follows the first. Here an event only says "look at this path": the
 * session re-stats what it reports (contexts are refreshed from the paths, see context/refresh.ts),
 * so nothing about the event's kind needs to be right, only that one arrives.
 */
import { lstatSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export class TreeWatcher {
  /** Directories watched with their subdirectories. */
  private readonly trees = new Set<string>();
  /** Files watched alone (the config and its modules), by their directory. */
  private readonly files = new Map<string, Set<string>>();
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(
    /** A path that may have changed (created, modified, deleted, renamed). */
    private readonly onPath: (abs: string) => void,
    /** Paths not to report and directories not to descend into. */
    private readonly ignored: (abs: string, isDir: boolean | undefined) => boolean,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  /** Watches exactly these roots from now on: directories (recursively) and single files. */
  set(roots: readonly string[]): void {
    const trees = new Set<string>();
    const files = new Map<string, Set<string>>();
    for (const root of roots) {
      if (lstatSync(root, { throwIfNoEntry: false })?.isDirectory()) trees.add(root);
      else {
        const dir = dirname(root);
        if (!files.has(dir)) files.set(dir, new Set());
        files.get(dir)!.add(root);
      }
    }
    this.trees.clear();
    for (const t of trees) this.trees.add(t);
    this.files.clear();
    for (const [d, f] of files) this.files.set(d, f);
    // Drop watches no root needs any more, then add what is missing.
    for (const dir of [...this.watchers.keys()]) if (!this.wanted(dir)) this.unwatch(dir);
    for (const tree of this.trees) this.watchTree(tree);
    for (const dir of this.files.keys()) this.watchDir(dir);
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private inTree(abs: string): boolean {
    for (const tree of this.trees) if (abs === tree || abs.startsWith(tree + sep)) return true;
    return false;
  }

  private wanted(dir: string): boolean {
    return this.files.has(dir) || (this.inTree(dir) && !this.ignored(dir, true));
  }

  private watchTree(dir: string): void {
    if (this.ignored(dir, true) && !this.trees.has(dir)) return;
    this.watchDir(dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone already: its parent's event reports it
    }
    for (const e of entries) if (e.isDirectory()) this.watchTree(join(dir, e.name));
  }

  private watchDir(dir: string): void {
    if (this.watchers.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: true }, (_type, name) => {
        if (name) this.event(join(dir, name.toString()), dir);
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(error as Error);
      return;
    }
    w.on('error', () => this.unwatch(dir)); // the directory went away
    this.watchers.set(dir, w);
  }

  private unwatch(dir: string): void {
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(dir + sep)) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }

  private event(abs: string, dir: string): void {
    const single = this.files.get(dir);
    if (!this.inTree(abs)) {
      if (single?.has(abs)) this.onPath(abs);
      return;
    }
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (this.ignored(abs, st ? st.isDirectory() : undefined) && !single?.has(abs)) return;
    if (st?.isDirectory())
      this.watchTree(abs); // new (or renamed into place): watch what it holds
    else if (!st && this.watchers.has(abs)) this.unwatch(abs);
    this.onPath(abs);
  }
}
