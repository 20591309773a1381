/**
 * Filesystem changes a RUN step makes on top of a base image, one image per kind of change, so a
 * difference names its feature: deleted base files (whiteouts), a directory deleted and made again
 * (opaque directories), every kind of link, and modes and owners including setuid, setgid and sticky.
 */
import { copy, defineConfig, run } from 'drydock';

const base = 'busybox:latest';

export default defineConfig({
  images: {
    // Deleting files and a directory of the base image: the layer must say so (whiteouts).
    whiteout: {
      stage: {
        from: base,
        steps: [run('rm /etc/group /bin/vi && rmdir /home && echo kept > /etc/kept')],
      },
    },
    // A directory of the base and one of an earlier step, each removed and made again in a later
    // step: only the new content may remain (opaque directories).
    opaque: {
      stage: {
        from: base,
        steps: [
          run('mkdir -p /opt/d/sub && echo a > /opt/d/a && echo b > /opt/d/sub/b'),
          run('rm -rf /opt/d && mkdir /opt/d && touch /opt/d/x'),
          run('rm -rf /var && mkdir /var && touch /var/x'),
        ],
      },
    },
    // Absolute, relative and dangling symlinks, a symlink to a directory, and hardlinks: between new
    // files, and to a file of the base image.
    links: {
      stage: {
        from: base,
        steps: [
          run(
            [
              'mkdir -p /links/dir',
              'echo target > /links/dir/file',
              'ln -s /links/dir/file /links/absolute',
              'ln -s dir/file /links/relative',
              'ln -s ../nowhere/at/all /links/dangling',
              'ln -s dir /links/dirlink',
              'ln /links/dir/file /links/hard',
              'ln /links/dir/file /links/hard2',
              'ln /bin/busybox /links/busybox-hard',
            ].join(' && '),
          ),
        ],
      },
    },
    // Modes and owners set by RUN: setuid, setgid, sticky, odd permissions, numeric owners, a fifo.
    modes: {
      stage: {
        from: base,
        steps: [
          run(
            [
              'mkdir -p /modes/sticky /modes/private /modes/owned',
              'echo s > /modes/setuid && chmod 4755 /modes/setuid',
              'echo g > /modes/setgid && chmod 2711 /modes/setgid',
              'chmod 1777 /modes/sticky',
              'chmod 0700 /modes/private',
              'echo o > /modes/owned/file && chown -R 1000:1000 /modes/owned',
              'echo n > /modes/nobody && chown 65534:0 /modes/nobody && chmod 0640 /modes/nobody',
              'echo z > /modes/none && chmod 0000 /modes/none',
              'mkfifo -m 0620 /modes/fifo',
              'chmod 0750 /etc',
            ].join(' && '),
          ),
        ],
      },
    },
    // COPY's own owners and modes: --chown by name and by number, --chmod, and a context file's
    // executable bit kept as is.
    'copy-modes': {
      stage: {
        from: base,
        steps: [
          copy('files/plain.txt', '/copied/by-name.txt', { chown: 'nobody:nobody' }),
          copy('files/plain.txt', '/copied/by-number.txt', { chown: '1000:1000' }),
          copy('files/plain.txt', '/copied/chmod.txt', { chmod: '0750' }),
          copy('files/tool.sh', '/copied/tool.sh'),
          copy('files', '/copied/tree', { chown: '1000:1000', chmod: '0700' }),
        ],
      },
    },
  },
});
