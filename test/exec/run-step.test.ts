/**
 * runStep: one RUN step under real runc on a real overlay. The lowest layer is a tiny rootfs made
 * from the host's busybox-static; each step's upperdir is what would become its layer.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ExecCancelled,
  ExecError,
  filesAt,
  resolveUser,
  runStep,
  unmountsDone,
  type ExecMount,
  type ProcessSpec,
} from '../../core/src/exec/index.js';

let root: string;
let base: string;
let n = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'drydock-exec-'));
  base = join(root, 'base');
  mkdirSync(join(base, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(base, 'bin/busybox'));
  for (const applet of execFileSync('/bin/busybox', ['--list']).toString().trim().split('\n')) {
    if (applet !== 'busybox') symlinkSync('busybox', join(base, 'bin', applet));
  }
  mkdirSync(join(base, 'etc'));
  mkdirSync(join(base, 'tmp'), { mode: 0o1777 });
  writeFileSync(
    join(base, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(join(base, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n');
  writeFileSync(join(base, 'etc/doomed'), 'remove me\n');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function layer(): string {
  const dir = join(root, `upper-${++n}`);
  mkdirSync(dir);
  return dir;
}

function proc(script: string, extra: Partial<ProcessSpec> = {}): ProcessSpec {
  return { args: ['/bin/sh', '-c', script], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, ...extra };
}

async function run(
  script: string,
  o: {
    lower?: string[];
    process?: Partial<ProcessSpec>;
    mounts?: ExecMount[];
    network?: 'host' | 'none';
    signal?: AbortSignal;
  } = {},
): Promise<{ upper: string; out: string }> {
  const upper = layer();
  let out = '';
  await runStep({
    lowerdirs: o.lower ?? [base],
    upperdir: upper,
    scratch: root,
    process: proc(script, o.process),
    ...(o.mounts ? { mounts: o.mounts } : {}),
    ...(o.network ? { network: o.network } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onOutput: (_, chunk) => (out += chunk.toString()),
  });
  return { upper, out };
}

/** Every path in a tree, relative, with its type (whiteouts show as char devices). */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(join(dir, rel));
    const kind = st.isDirectory() ? 'dir' : st.isCharacterDevice() ? 'whiteout' : st.isSymbolicLink() ? 'link' : 'file';
    return [`${rel} ${kind}`, ...(st.isDirectory() ? tree(dir, rel) : [])];
  });
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir));
}

describe('a RUN step', () => {
  it('writes its changes, and only them, to the upperdir: files, deletions as whiteouts, no mount stubs', async () => {
    const { upper, out } = await run('echo built > /out.txt && rm /etc/doomed && echo done');
    expect(out).toBe('done\n');
    expect(tree(upper).sort()).toEqual(['etc dir', 'etc/doomed whiteout', 'out.txt file']);
    await unmountsDone();
    expect(mountsUnder(root)).toEqual([]);
    expect(readFileSync(join(upper, 'out.txt'), 'utf8')).toBe('built\n');
  });

  it('stacks: a later step sees an earlier step’s layer through the lowerdirs', async () => {
    const first = await run('mkdir -p /app && echo one > /app/a && rm /etc/doomed');
    const { out } = await run('cat /app/a; cat /etc/doomed 2>/dev/null || echo gone', { lower: [first.upper, base] });
    expect(out).toBe('one\ngone\n');
  });

  it('runs with the given env, working directory (created if missing) and user', async () => {
    const { upper, out } = await run('echo "$GREETING"; pwd; id -u; id -g; id -G', {
      process: {
        env: ['PATH=/bin', 'GREETING=hi there'],
        cwd: '/work/dir',
        uid: 1000,
        gid: 1000,
        additionalGids: [50],
      },
    });
    expect(out).toBe('hi there\n/work/dir\n1000\n1000\n1000 50\n');
    expect(tree(upper).sort()).toEqual(['work dir', 'work/dir dir']);
  });

  /** A step that writes /made after a moment, on `lowerdirs`; the host's mount table meanwhile, and its upperdir. */
  async function whileRunning(lowerdirs: string[]): Promise<{ hostMounts: string; upper: string }> {
    const upper = layer();
    const step = runStep({
      lowerdirs,
      upperdir: upper,
      scratch: root,
      process: proc('sleep 0.3; cat /etc/hosts >/dev/null && echo made > /made'),
    });
    await new Promise((r) => setTimeout(r, 150));
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
    await step;
    return { hostMounts, upper };
  }

  it('has runc mount its overlay in the container, never on the host', async () => {
    const { hostMounts, upper } = await whileRunning([base]);
    expect(hostMounts).not.toContain(upper);
    expect(tree(upper).sort()).toEqual(['made file']);
  });

  it('mounts the overlay on the host when a mount point lies behind a symlink, with the same layer', async () => {
    // /etc is a link here: where /etc/hosts is to be mounted is the link's business, not the lowerdirs'.
    const linked = join(root, 'linked-etc');
    mkdirSync(join(linked, 'private/etc'), { recursive: true });
    symlinkSync('private/etc', join(linked, 'etc'));
    const { hostMounts, upper } = await whileRunning([linked, base]);
    expect(hostMounts).toContain(upper);
    expect(tree(upper).sort()).toEqual(['made file']);
  });

  it('uses the host network by default and none on request', async () => {
    const probe = 'nc -w 2 127.0.0.1 5000 </dev/null 2>/dev/null && echo reachable || echo unreachable';
    const host = await run(`ls /sys/class/net | grep -c . ; ${probe}; wget -q -O - http://127.0.0.1:5000/v2/`);
    const [interfaces, reach] = host.out.split('\n');
    expect(Number(interfaces)).toBeGreaterThan(1);
    expect(reach).toBe('reachable');
    expect(host.out).toContain('{}');
    const none = await run(`ls /sys/class/net; ${probe}`, {
      network: 'none',
    });
    expect(none.out).toBe('lo\nunreachable\n');
  });

  it('mounts a secret read-only with its mode and owner, and leaves no trace of it in the layer', async () => {
    const value = `s3cret-${process.pid}-${Date.now()}`;
    const { upper, out } = await run(
      'stat -c "%a %u" /run/secrets/token; cat /run/secrets/token; echo; touch /run/secrets/token 2>/dev/null || echo read-only',
      {
        mounts: [
          {
            kind: 'secret',
            target: '/run/secrets/token',
            content: Buffer.from(value),
            mode: 0o400,
            uid: 1000,
            gid: 1000,
          },
        ],
      },
    );
    expect(out).toBe(`400 1000\n${value}\nread-only\n`);
    expect(tree(upper)).toEqual([]);
    const grep = spawnSync('grep', ['-rl', value, upper]);
    expect([grep.status, grep.stdout.toString()]).toEqual([1, '']); // 1: searched, no match
  });

  it('binds host directories read-only or read-write, and keeps tmpfs writes out of the layer', async () => {
    const shared = mkdtempSync(join(root, 'bind-'));
    writeFileSync(join(shared, 'input'), 'from host\n');
    const { upper, out } = await run(
      'cat /in/input; { echo x > /in/new; } 2>/dev/null || echo ro; echo y > /cache/new; echo z > /scratch/tmp',
      {
        mounts: [
          { kind: 'bind', source: shared, target: '/in', readonly: true },
          { kind: 'bind', source: shared, target: '/cache', readonly: false },
          { kind: 'tmpfs', target: '/scratch' },
        ],
      },
    );
    expect(out).toBe('from host\nro\n');
    expect(readFileSync(join(shared, 'new'), 'utf8')).toBe('y\n');
    expect(tree(upper)).toEqual([]);
  });

  it('fails with the exit code and the last lines of output', async () => {
    const error = await run('echo starting; echo "npm ERR! missing script: build" >&2; exit 3').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExecError);
    expect((error as ExecError).exitCode).toBe(3);
    // stdout and stderr are separate pipes: both are kept, their relative order is not.
    expect((error as ExecError).outputTail.split('\n').sort()).toEqual(['npm ERR! missing script: build', 'starting']);
  });

  it('is cancelled by its signal: the container is killed and nothing is left mounted or registered', async () => {
    const controller = new AbortController();
    const upper = layer();
    const started = Date.now();
    const error = await runStep({
      lowerdirs: [base],
      upperdir: upper,
      scratch: root,
      process: proc('echo started; sleep 100'),
      signal: controller.signal,
      onOutput: (_, chunk) => chunk.toString().includes('started') && controller.abort(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecCancelled);
    expect(Date.now() - started).toBeLessThan(30_000);
    // The rootfs is unmounted beside what follows the step; nothing is left once that is done.
    await unmountsDone();
    expect(mountsUnder(root)).toEqual([]);
    expect(execFileSync('runc', ['--root', '/run/drydock/runc', 'list', '-q']).toString()).toBe('');
  });
});

describe('a step cancelled before or while its container starts', () => {
  /** Host processes running `sleep <seconds>` (a container's process is one too, seen from here). */
  const sleepers = (seconds: string): number =>
    readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${seconds}\0`;
        } catch {
          return false;
        }
      }).length;

  it('starts no container when cancelled during its preparation', async () => {
    const controller = new AbortController();
    controller.abort();
    const upper = layer();
    const error = await runStep({
      lowerdirs: [base],
      upperdir: upper,
      scratch: root,
      process: proc('touch /started; sleep 100'),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecCancelled);
    await unmountsDone();
    expect(readdirSync(upper)).toEqual([]);
    expect(mountsUnder(root)).toEqual([]);
  });

  it('leaves no process behind, whenever during the start the cancel lands', async () => {
    // From right after runc is started to well after the container runs: runc kill fails while the
    // container is being created, and runc run must not be killed then (its container would run on).
    for (const delayMs of [0, 2, 5, 10, 20, 40, 80]) {
      const controller = new AbortController();
      const cancel = setTimeout(() => controller.abort(), delayMs);
      const error = await runStep({
        lowerdirs: [base],
        upperdir: layer(),
        scratch: root,
        process: proc('sleep 987'),
        signal: controller.signal,
        // The preparation done, the container is starting: the cancel lands in the start.
        onOutput: () => {},
      }).catch((e: unknown) => e);
      clearTimeout(cancel);
      expect(error).toBeInstanceOf(ExecCancelled);
      expect(sleepers('987')).toBe(0);
    }
    await unmountsDone();
    expect(execFileSync('runc', ['--root', '/run/drydock/runc', 'list', '-q']).toString()).toBe('');
  });
});

describe('resolveUser', () => {
  it('reads names, ids and groups from the image, not the host', async () => {
    expect(await resolveUser(filesAt(base), 'app')).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [50],
      home: '/home/app',
    });
    expect(await resolveUser(filesAt(base), 'app:staff')).toEqual({
      uid: 1000,
      gid: 50,
      additionalGids: [],
      home: '/home/app',
    });
    expect(await resolveUser(filesAt(base), '4242')).toEqual({ uid: 4242, gid: 0, additionalGids: [] });
    expect(await resolveUser(filesAt(base), '4242:4343')).toEqual({ uid: 4242, gid: 4343, additionalGids: [] });
    await expect(resolveUser(filesAt(base), 'node')).rejects.toThrow(/unable to find user node/);
  });
});

describe('without root', () => {
  it('says plainly that RUN steps need root (the built module, run as nobody)', () => {
    const module = join(__dirname, '../../core/dist/exec/index.js');
    const script = `import(${JSON.stringify(module)}).then((m) => { try { m.assertAvailable(); console.log('available'); } catch (e) { console.log(e.name + ': ' + e.message); } })`;
    const r = spawnSync('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '-e',
      script,
    ]);
    expect(r.stdout.toString().trim()).toBe(
      'ExecutorUnavailable: RUN steps need root: drydock runs them under runc on overlayfs (run drydock as root, e.g. with sudo)',
    );
  });
});
