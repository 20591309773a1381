// Quoting and escaping: graph strings are Dockerfile words (`${NAME}` expands, `\$` is a literal
// dollar, everything else is literal); the emitter writes them so BuildKit reads back the same word.
// roundtrip.test.ts builds the tricky ones for real.
import { describe, expect, it } from 'vitest';
import { emitDockerfile, type Op } from '@drydock/core';
import { arg, instructions, node, single } from './graphs.js';

const emit = (...ops: Op[]): string =>
  instructions(emitDockerfile(single(ops.map((op) => node(op))), 'app', { configFile: 'c.ts' }));
const env = (value: string): string => emit({ op: 'env', env: [['V', value]] });

describe('ENV and LABEL values', () => {
  it('leaves plain words and variable references bare', () => {
    expect(env('production')).toBe('ENV V=production');
    expect(env('/app/bin:$PATH')).toBe('ENV V=/app/bin:$PATH');
    expect(env('${NODE_VERSION}-slim')).toBe('ENV V=${NODE_VERSION}-slim');
    expect(env('a=b=c')).toBe('ENV V=a=b=c');
  });

  it('double-quotes whitespace, quotes, backslashes, comment signs and empty values', () => {
    expect(env('hello world')).toBe('ENV V="hello world"');
    expect(env(' padded ')).toBe('ENV V=" padded "');
    expect(env('say "hi"')).toBe('ENV V="say \\"hi\\""');
    expect(env("it's")).toBe('ENV V="it\'s"');
    expect(env('C:\\path\\to')).toBe('ENV V="C:\\\\path\\\\to"');
    expect(env('trailing\\')).toBe('ENV V="trailing\\\\"');
    expect(env('#not-a-comment')).toBe('ENV V="#not-a-comment"');
    expect(env('')).toBe('ENV V=""');
    expect(env('tab\there')).toBe('ENV V="tab\there"');
    expect(env('héllo ✓')).toBe('ENV V="héllo ✓"');
    expect(env('`cmd`')).toBe('ENV V="`cmd`"');
  });

  it('keeps `\\$` (a literal dollar) and `${…}` expansions inside quotes', () => {
    expect(env('costs \\$5')).toBe('ENV V="costs \\$5"');
    expect(env('hi ${WHO}')).toBe('ENV V="hi ${WHO}"');
    expect(env('${A:-a default}')).toBe('ENV V="${A:-a default}"');
  });

  it('quotes label names that need it', () => {
    expect(
      emit({
        op: 'label',
        labels: [
          ['my key', 'v'],
          ['a=b', 'c'],
          ['org.example/x-y', 'z'],
        ],
      }),
    ).toBe('LABEL "my key"=v \\\n    "a=b"=c \\\n    org.example/x-y=z');
  });

  it('refuses line breaks, which no Dockerfile ENV or LABEL can hold, with DD160', () => {
    for (const op of [
      { op: 'env', env: [['V', 'two\nlines']] },
      { op: 'label', labels: [['description', 'a\r\nb']] },
      { op: 'workdir', path: '/a\nb' },
      { op: 'user', user: 'a\nb' },
      { op: 'onbuild', instruction: 'RUN a\nRUN b' },
    ] satisfies Op[]) {
      expect(() => emit(op)).toThrowError(
        expect.objectContaining({
          diagnostics: [expect.objectContaining({ code: 'DD160', message: expect.stringMatching(/line break/) })],
        }),
      );
    }
  });

  it('refuses env names a Dockerfile cannot write', () => {
    expect(() => emit({ op: 'env', env: [['A B', 'x']] })).toThrowError(/env name "A B"/);
  });
});

describe('single-word instructions', () => {
  it('quotes WORKDIR, USER and STOPSIGNAL only when needed', () => {
    expect(emit({ op: 'workdir', path: '/srv/my app' })).toBe('WORKDIR "/srv/my app"');
    expect(emit({ op: 'workdir', path: '/w"q\\b' })).toBe('WORKDIR "/w\\"q\\\\b"');
    expect(emit({ op: 'workdir', path: '/app/${NAME}' })).toBe('WORKDIR /app/${NAME}');
    expect(emit({ op: 'user', user: '${UID}:${GID}' })).toBe('USER ${UID}:${GID}');
    expect(emit({ op: 'stopsignal', signal: 'SIGTERM' })).toBe('STOPSIGNAL SIGTERM');
  });
});

describe('paths and JSON forms', () => {
  it('escapes quotes and backslashes in JSON-form VOLUME, which BuildKit word-expands', () => {
    expect(emit({ op: 'volume', paths: ['/va b', '/q"x', "/it's", '/bs\\z', '/${DIR}', '/d\\$x'] })).toBe(
      'VOLUME ["/va b", "/q\\\\\\"x", "/it\\\\\'s", "/bs\\\\\\\\z", "/${DIR}", "/d\\\\$x"]',
    );
  });

  it('escapes quotes and backslashes in COPY paths in both forms', () => {
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ["it's.txt", 'q"x.txt'], dest: '/d/' })).toBe(
      'COPY it\\\'s.txt q\\"x.txt /d/',
    );
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ['a b.txt', "it's.txt"], dest: '/d/' })).toBe(
      'COPY ["a b.txt", "it\\\\\'s.txt", "/d/"]',
    );
  });

  it('uses JSON form for paths the plain form would misread', () => {
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ['[weird]'], dest: '/x' })).toBe(
      'COPY ["[weird]", "/x"]',
    );
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ['<<odd'], dest: '/x' })).toBe(
      'COPY ["<<odd", "/x"]',
    );
  });

  it('writes exec-form arguments as plain JSON, which nothing expands', () => {
    expect(emit({ op: 'cmd', command: { exec: ['sh', '-c', 'echo "$HOME" \\ done\n'] } })).toBe(
      'CMD ["sh", "-c", "echo \\"$HOME\\" \\\\ done\\n"]',
    );
    expect(emit({ op: 'shell', shell: ['pwsh', '-Command', "$ErrorActionPreference = 'Stop';"] })).toBe(
      'SHELL ["pwsh", "-Command", "$ErrorActionPreference = \'Stop\';"]',
    );
  });
});

describe('flag values', () => {
  it('quotes flag values with whitespace so the flag splitter keeps them whole', () => {
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ['.'], dest: '/a', exclude: ['my docs/'] })).toBe(
      'COPY --exclude="my docs/" . /a',
    );
    expect(emit({ op: 'run', command: { shell: 'ls' }, mounts: [{ type: 'cache', target: '/my cache' }] })).toBe(
      'RUN --mount="type=cache,target=/my cache" \\\n    ls',
    );
  });

  it('CSV-quotes mount options holding commas and word-escapes quotes', () => {
    expect(emit({ op: 'run', command: { shell: 'ls' }, mounts: [{ type: 'cache', target: '/a,b' }] })).toBe(
      'RUN --mount="type=cache,\\"target=/a,b\\"" \\\n    ls',
    );
    expect(emit({ op: 'run', command: { shell: 'ls' }, mounts: [{ type: 'cache', target: "/it's" }] })).toBe(
      'RUN --mount="type=cache,target=/it\\\\\'s" \\\n    ls',
    );
  });

  it('word-escapes --chown, which BuildKit expands', () => {
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ['a'], dest: '/a', chown: '${UID}:${GID}' })).toBe(
      'COPY --chown=${UID}:${GID} a /a',
    );
  });
});

describe('ARG values', () => {
  it('quotes default values so that nothing in them expands', () => {
    const text = emitDockerfile(
      single(
        [
          node(
            {
              op: 'env',
              env: [
                ['A', '${A}'],
                ['B', '${B}'],
                ['C', '${C}'],
                ['D', '${D}'],
                ['E', '${E}'],
              ],
            },
            ['A', 'B', 'C', 'D', 'E'],
          ),
        ],
        [arg('A', '22'), arg('B', 'two words'), arg('C', 'say "hi" \\ $5'), arg('D', ''), arg('E', undefined)],
      ),
      'app',
      { configFile: 'c.ts' },
    );
    expect(text).toContain(
      ['ARG A=22', 'ARG B="two words"', 'ARG C="say \\"hi\\" \\\\ \\$5"', 'ARG D=""', 'ARG E'].join('\n'),
    );
  });

  it('refuses an arg value with a line break', () => {
    expect(() =>
      emitDockerfile(single([node({ op: 'env', env: [['A', '${A}']] }, ['A'])], [arg('A', 'a\nb')]), 'app', {
        configFile: 'c.ts',
      }),
    ).toThrowError(/line break/);
  });
});
