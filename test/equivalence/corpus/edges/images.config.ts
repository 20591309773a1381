/**
 * Harder filesystem cases: a path changing type between layers, metadata-only changes of base
 * files, hardlinks made in a later layer, names tar writers find hard (long, spaces, unicode),
 * device nodes, RUN as a numeric user, COPY's owner rules, and bind and tmpfs mounts.
 */
import { bind, copy, defineConfig, run, tmpfs, user } from 'drydock';

const base = 'busybox:latest';
const long = 'a-directory-name-long-enough/to-push-the-whole-path-past/the-hundred-bytes-of-a-plain-ustar-header';

export default defineConfig({
  images: {
    // A base file becomes a directory, a base directory a file, a base symlink a directory, and a
    // file of an earlier step a symlink.
    'type-changes': {
      stage: {
        from: base,
        steps: [
          run('echo first > /made-file && mkdir -p /made-dir/sub && echo x > /made-dir/sub/x'),
          run(
            [
              'rm /bin/vi && mkdir /bin/vi && echo now-a-dir > /bin/vi/inside',
              'rm -r /home && echo now-a-file > /home',
              'rm /linuxrc && mkdir /linuxrc',
              'rm /made-file && ln -s /etc/passwd /made-file',
              'rm -r /made-dir && echo file > /made-dir',
            ].join(' && '),
          ),
        ],
      },
    },
    // Only metadata changes: chmod, chown and touch of base files and a base directory.
    'metadata-only': {
      stage: {
        from: base,
        steps: [run('chmod 0700 /bin/busybox && chown 1:2 /etc/passwd && touch /etc/group && chmod 0711 /root')],
      },
    },
    // Hardlinks made in a later step to a file of an earlier step, and a file appended to.
    'later-links': {
      stage: {
        from: base,
        steps: [
          run('mkdir /data && echo payload > /data/file && echo log > /data/log'),
          run('ln /data/file /data/link-later && ln /data/file /link-elsewhere && echo more >> /data/log'),
        ],
      },
    },
    // Names: long paths, a long symlink target, spaces, unicode, a leading dash, an empty dir
    // with mode 000, and a large sparse file.
    names: {
      stage: {
        from: base,
        steps: [
          run(
            [
              `mkdir -p "/names/${long}"`,
              `echo long > "/names/${long}/file-with-a-name-that-is-long-too.txt"`,
              `ln -s "/names/${long}/file-with-a-name-that-is-long-too.txt" /names/long-target`,
              'echo spaced > "/names/with space.txt"',
              'echo unicode > "/names/ünïcødé-名前.txt"',
              'echo dash > /names/-dash',
              'mkdir -m 000 /names/closed',
              'dd if=/dev/zero of=/names/sparse bs=1 count=1 seek=3000000 2>/dev/null',
            ].join(' && '),
          ),
        ],
      },
    },
    // Device nodes made by RUN (mknod).
    devices: {
      stage: {
        from: base,
        steps: [run('mkdir /devs && mknod -m 0666 /devs/null c 1 3 && mknod -m 0660 /devs/loop b 7 200')],
      },
    },
    // RUN as a numeric user and group that /etc/passwd does not know; files made keep them.
    'numeric-user': {
      stage: {
        from: base,
        steps: [
          run('mkdir -m 0777 /shared'),
          user('1234:5678'),
          run('echo mine > /shared/by-1234 && id > /shared/id'),
          user('4321'),
          run('echo uid-only > /shared/by-4321'),
        ],
      },
    },
    // COPY's owners: uid only (the group follows it), name only (the user's group), and into an
    // existing directory through a symlink.
    'copy-owners': {
      stage: {
        from: base,
        steps: [
          run('mkdir -p /real && ln -s /real /via-link'),
          copy('files/one.txt', '/owned/uid-only.txt', { chown: '1000' }),
          copy('files/one.txt', '/owned/name-only.txt', { chown: 'nobody' }),
          copy('files/two.txt', '/via-link/'),
          copy('files/dir', '/nested/created/on/the/way', { chown: '7:8' }),
          copy(['files/one.txt', 'files/two.txt'], '/no-slash-dir/'),
        ],
      },
    },
    // COPY onto a path that is a symlink in the base (busybox's /linuxrc -> /bin/busybox).
    'copy-onto-symlink': {
      stage: { from: base, steps: [copy('files/one.txt', '/linuxrc')] },
    },
    // Whiteouts and an opaque directory over a multi-layer base (node's layers under debian's).
    'node-whiteouts': {
      stage: {
        from: 'node:20-slim',
        steps: [
          run(
            'rm -rf /usr/local/include/node && mkdir /usr/local/include/node && touch /usr/local/include/node/x && rm /usr/local/bin/npx /etc/debian_version',
          ),
        ],
      },
    },
    // Exec-form RUN (no shell: variables stay as written) next to shell form.
    'exec-form': {
      stage: {
        from: base,
        env: { WHO: 'env' },
        steps: [run(['/bin/sh', '-c', 'echo "$WHO $HOME" > /exec-shell']), run(['/bin/mkdir', '-p', '/exec/$WHO'])],
      },
    },
    // Bind mounts from the context and from another stage, and a tmpfs: used, never stored.
    'other-mounts': {
      stages: {
        tools: {
          from: base,
          steps: [run('mkdir /tools && echo "echo from-tools" > /tools/say.sh')],
        },
        main: {
          from: base,
          steps: [
            run('mkdir /out && cat /ctx/one.txt > /out/from-context && ls /ctx > /out/context-listing', {
              mounts: [bind('/ctx', { source: 'files' })],
            }),
            run('sh /mnt/tools/say.sh > /out/from-stage', {
              mounts: [bind('/mnt/tools', { from: 'tools', source: '/tools' })],
            }),
            run('echo scratch > /scratch/file && ls /scratch > /out/tmpfs-listing', { mounts: [tmpfs('/scratch')] }),
            run('echo written > /rw/new && ls /rw > /out/rw-listing', {
              mounts: [bind('/rw', { source: 'files', readwrite: true })],
            }),
          ],
        },
      },
    },
  },
});
