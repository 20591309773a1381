/**
 * What COPY and ADD take from the build context: `.dockerignore` rules with negations and
 * directory excludes plus the config's own `ignore`, globs, several sources in one COPY, and ADD
 * of local tar archives (extracted, keeping the archive's owners and modes).
 *
 * `.dockerignore` here: `*.log` then `!keep.log` (top level only: `sub/b.log` stays), `tmp/`,
 * `**\/*.bak`, `docs/**` then `!docs/public.md`.
 */
import { add, copy, defineConfig, run } from 'drydock';

const base = 'busybox:latest';

export default defineConfig({
  images: {
    'ignore-rules': {
      // images.lock.json: drydock writes it next to the config, i.e. into this context, mid-test.
      ignore: ['secret.txt', 'data/nested', 'images.lock.json'],
      stage: { from: base, steps: [copy('.', '/ctx')] },
    },
    globs: {
      stage: {
        from: base,
        steps: [
          copy('src/*.txt', '/globs/txt/'),
          copy('data/*.json', '/globs/json/'),
          copy('s?c/m*.txt', '/globs/single/'),
          copy('*.log', '/globs/logs/'),
        ],
      },
    },
    'multi-source': {
      stage: {
        from: base,
        steps: [
          copy(['src/main.txt', 'data', 'bin/tool.sh'], '/multi/'),
          copy(['src', 'sub'], '/merged/'),
          copy('bin', '/bin-dir'),
          copy('src/main.txt', '/renamed.txt'),
        ],
      },
    },
    'add-tar': {
      stage: {
        from: base,
        steps: [
          add('archives/tree.tar', '/unpacked/plain/'),
          add('archives/tree.tar.gz', '/unpacked/gz'),
          add('src/main.txt', '/added/'),
        ],
      },
    },
    // xz and bzip2 archives are extracted too; a file merely named .tar.gz is copied as is; a
    // second archive into the same directory merges with the first.
    'add-compressed': {
      stage: {
        from: base,
        steps: [
          add('archives/tree.tar.xz', '/xz/'),
          add('archives/tree.tar.bz2', '/bz2/'),
          add('archives/fake.tar.gz', '/fake/'),
          run('mkdir -p /merged/top && echo pre-existing > /merged/top/file.txt && echo kept > /merged/top/other'),
          add('archives/tree.tar', '/merged/'),
          add('archives/tree.tar', '/chowned/', { chown: '99:98' }),
          add('archives/tree.tar.gz', '/chmodded/', { chmod: '0700' }),
        ],
      },
    },
  },
});
