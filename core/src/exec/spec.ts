import { readFileSync } from 'node:fs';

/**
 * The OCI runtime spec (config.json) for one RUN step. Modelled on what BuildKit's runc executor
 * gives a step: docker's default capabilities, hostname `buildkitsandbox`, a high open-file limit,
 * the host's resolv.conf and hosts on host networking. No cgroups are configured: this host's
 * hybrid cgroup layout is what runc handles without them.
 */
export interface ProcessSpec {
  args: readonly string[];
  env: readonly string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids?: readonly number[];
}

export interface RuntimeMount {
  destination: string;
  /** bind, tmpfs, or a kernel filesystem (proc, sysfs, devpts, mqueue). */
  type: string;
  source: string;
  options: string[];
}

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Mounts every container gets; their mountpoints are stubs to keep out of the layer. */
export const SYSTEM_MOUNTS: readonly RuntimeMount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  {
    destination: '/dev',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
  },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  {
    destination: '/dev/shm',
    type: 'tmpfs',
    source: 'shm',
    options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
  },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

export function runtimeSpec(o: {
  rootfs: string;
  /** A mount at `/` that runc makes first (the step's overlay, container-rootfs.ts); none when `rootfs` is mounted. */
  rootMount?: RuntimeMount;
  process: ProcessSpec;
  mounts: readonly RuntimeMount[];
  network: 'host' | 'none';
  privileged?: boolean;
}): object {
  const caps = o.privileged ? allCapabilities() : DEFAULT_CAPABILITIES;
  const namespaces = ['pid', 'ipc', 'uts', 'mount', ...(o.network === 'none' ? ['network'] : [])];
  return {
    ociVersion: '1.0.2',
    root: { path: o.rootfs, readonly: false },
    hostname: 'buildkitsandbox',
    process: {
      terminal: false,
      user: { uid: o.process.uid, gid: o.process.gid, additionalGids: [...(o.process.additionalGids ?? [])] },
      args: [...o.process.args],
      env: [...o.process.env],
      cwd: o.process.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: openFilesLimit(), soft: openFilesLimit() }],
      noNewPrivileges: !o.privileged,
    },
    mounts: [...(o.rootMount ? [o.rootMount] : []), ...SYSTEM_MOUNTS, ...o.mounts],
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: o.privileged
        ? []
        : [
            '/proc/acpi',
            '/proc/asound',
            '/proc/kcore',
            '/proc/keys',
            '/proc/latency_stats',
            '/proc/timer_list',
            '/proc/timer_stats',
            '/proc/sched_debug',
            '/sys/firmware',
            '/proc/scsi',
          ],
      readonlyPaths: o.privileged ? [] : ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * BuildKit gives steps 1048576 open files; a step cannot exceed what this process may raise to,
 * so it gets the smaller of the two (runc fails to start the container otherwise).
 */
function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === 'unlimited' ? 1048576 : Math.min(1048576, Number(hard));
}

function allCapabilities(): string[] {
  return [
    ...DEFAULT_CAPABILITIES,
    'CAP_SYS_ADMIN',
    'CAP_NET_ADMIN',
    'CAP_SYS_PTRACE',
    'CAP_SYS_MODULE',
    'CAP_SYS_RAWIO',
    'CAP_SYS_RESOURCE',
    'CAP_SYS_TIME',
    'CAP_IPC_LOCK',
    'CAP_LINUX_IMMUTABLE',
    'CAP_DAC_READ_SEARCH',
  ];
}
