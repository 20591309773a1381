// Every op and flag of the graph, as the instruction the emitter writes for it.
import { describe, expect, it } from 'vitest';
import { emitDockerfile, type MountSpec, type Node, type Op } from '@drydock/core';
import { graph, image, instructions, node, single, stage } from './graphs.js';

const emit = (...ops: Op[]): string =>
  instructions(emitDockerfile(single(ops.map((op) => node(op))), 'app', { configFile: 'images.config.ts' }));

const run = (mounts: MountSpec[], extra: Partial<Extract<Op, { op: 'run' }>> = {}): Op => ({
  op: 'run',
  command: { shell: 'make' },
  mounts,
  ...extra,
});

describe('RUN', () => {
  it('writes shell form as text and exec form as JSON', () => {
    expect(emit({ op: 'run', command: { shell: 'apk add --no-cache curl && echo "done"' }, mounts: [] })).toBe(
      'RUN apk add --no-cache curl && echo "done"',
    );
    expect(emit({ op: 'run', command: { exec: ['/bin/echo', 'a b', 'say "hi"'] }, mounts: [] })).toBe(
      'RUN ["/bin/echo", "a b", "say \\"hi\\""]',
    );
  });

  it('puts each flag on its own continuation line', () => {
    expect(
      emit(
        run([
          { type: 'cache', target: '/root/.cache' },
          { type: 'tmpfs', target: '/tmp' },
        ]),
      ),
    ).toBe('RUN --mount=type=cache,target=/root/.cache \\\n    --mount=type=tmpfs,target=/tmp \\\n    make');
  });

  it('writes cache mounts with every option', () => {
    expect(
      emit(
        run([
          {
            type: 'cache',
            target: '/var/cache/apt',
            id: 'apt',
            sharing: 'locked',
            from: { kind: 'stage', stage: 'seed' },
            source: '/seed',
            mode: '0755',
            uid: 1000,
            gid: 1001,
            readonly: true,
          },
        ]),
      ),
    ).toBe(
      'RUN --mount=type=cache,target=/var/cache/apt,id=apt,sharing=locked,from=seed,source=/seed,mode=0755,uid=1000,gid=1001,ro \\\n    make',
    );
    expect(emit(run([{ type: 'cache', target: '/c', sharing: 'shared' }]))).toContain(
      '--mount=type=cache,target=/c,sharing=shared',
    );
    expect(emit(run([{ type: 'cache', target: '/c', sharing: 'private' }]))).toContain(
      '--mount=type=cache,target=/c,sharing=private',
    );
  });

  it('writes bind mounts from the context, a stage or an image', () => {
    expect(emit(run([{ type: 'bind', target: '/src', from: { kind: 'context' } }]))).toContain(
      '--mount=type=bind,target=/src \\',
    );
    expect(
      emit(
        run([
          { type: 'bind', target: '/src', from: { kind: 'stage', stage: 'build' }, source: '/out', readwrite: true },
        ]),
      ),
    ).toContain('--mount=type=bind,target=/src,from=build,source=/out,rw \\');
    expect(
      emit(run([{ type: 'bind', target: '/b', from: { kind: 'image', ref: 'busybox:1.36' }, source: '/bin' }])),
    ).toContain('--mount=type=bind,target=/b,from=busybox:1.36,source=/bin \\');
  });

  it('writes tmpfs, ssh and secret mounts', () => {
    expect(emit(run([{ type: 'tmpfs', target: '/scratch', size: 1048576 }]))).toContain(
      '--mount=type=tmpfs,target=/scratch,size=1048576 \\',
    );
    expect(emit(run([{ type: 'ssh' }]))).toContain('--mount=type=ssh \\');
    expect(
      emit(run([{ type: 'ssh', id: 'github', target: '/run/ssh.sock', required: true, mode: '0600', uid: 1, gid: 2 }])),
    ).toContain('--mount=type=ssh,id=github,target=/run/ssh.sock,required=true,mode=0600,uid=1,gid=2 \\');
    expect(
      emit(
        run([{ type: 'secret', id: 'npmrc', target: '/root/.npmrc', required: false, mode: '0400', uid: 0, gid: 0 }]),
      ),
    ).toContain('--mount=type=secret,id=npmrc,target=/root/.npmrc,required=false,mode=0400,uid=0,gid=0 \\');
    expect(emit(run([{ type: 'secret', id: 'token', env: 'TOKEN', required: true }]))).toContain(
      '--mount=type=secret,id=token,env=TOKEN,required=true \\',
    );
  });

  it('writes --network and --security only when they are not the default', () => {
    expect(emit(run([], { network: 'none' }))).toBe('RUN --network=none \\\n    make');
    expect(emit(run([], { network: 'host' }))).toBe('RUN --network=host \\\n    make');
    expect(emit(run([], { security: 'insecure' }))).toBe('RUN --security=insecure \\\n    make');
    expect(emit(run([], { network: 'default', security: 'sandbox' }))).toBe('RUN make');
  });

  it('turns a multi-line script into a heredoc whose delimiter does not occur in it', () => {
    expect(emit({ op: 'run', command: { shell: 'set -e\necho one\necho two' }, mounts: [] })).toBe(
      'RUN <<EOF\nset -e\necho one\necho two\nEOF',
    );
    expect(
      emit({
        op: 'run',
        command: { shell: 'cat > /x <<EOF\nhello\nEOF\n' },
        mounts: [{ type: 'tmpfs', target: '/t' }],
      }),
    ).toBe('RUN --mount=type=tmpfs,target=/t <<EOF2\ncat > /x <<EOF\nhello\nEOF\nEOF2');
  });

  it('keeps backslash-continued lines, which the built-in frontend joins as sh would', () => {
    expect(
      emit({ op: 'run', command: { shell: 'apt-get update && \\\n    apt-get install -y curl' }, mounts: [] }),
    ).toBe('RUN apt-get update && \\\n    apt-get install -y curl');
  });

  it('uses a heredoc where joined lines would differ from sh: single quotes, comments, blank lines', () => {
    const heredoc = (shell: string) => emit({ op: 'run', command: { shell }, mounts: [] }).startsWith('RUN <<EOF\n');
    expect(heredoc("echo 'a \\\n b'")).toBe(true);
    expect(heredoc('echo a && \\\n# note\n echo b')).toBe(true);
    expect(heredoc('echo a \\\n\n echo b')).toBe(true);
    expect(heredoc('echo a\necho b')).toBe(true);
  });

  it('uses a heredoc where one line would be misread: a trailing backslash or JSON-looking text', () => {
    expect(emit({ op: 'run', command: { shell: 'echo a \\' }, mounts: [] })).toBe('RUN <<EOF\necho a \\\nEOF');
    expect(emit({ op: 'run', command: { shell: '["echo", "hi"]' }, mounts: [] })).toBe(
      'RUN <<EOF\n["echo", "hi"]\nEOF',
    );
    expect(emit({ op: 'run', command: { shell: '[ -f /x ] && echo yes' }, mounts: [] })).toBe(
      'RUN [ -f /x ] && echo yes',
    );
  });
});

describe('COPY and ADD', () => {
  it('writes COPY from the context, a stage and an image with every flag', () => {
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ['package.json', 'src/'], dest: '/app/' })).toBe(
      'COPY package.json src/ /app/',
    );
    expect(
      emit({
        op: 'copy',
        from: { kind: 'stage', stage: 'build' },
        sources: ['/out'],
        dest: '/app',
        chown: 'node:node',
        chmod: '0755',
        link: true,
        exclude: ['*.map', 'test/'],
        parents: true,
      }),
    ).toBe(
      'COPY --from=build --chown=node:node --chmod=0755 --link --exclude=*.map --exclude=test/ --parents /out /app',
    );
    expect(
      emit({ op: 'copy', from: { kind: 'image', ref: 'busybox:1.36' }, sources: ['/bin/busybox'], dest: '/bb' }),
    ).toBe('COPY --from=busybox:1.36 /bin/busybox /bb');
  });

  it('switches to JSON form when a path has whitespace', () => {
    expect(emit({ op: 'copy', from: { kind: 'context' }, sources: ['my file.txt', 'b.txt'], dest: '/my dir/' })).toBe(
      'COPY ["my file.txt", "b.txt", "/my dir/"]',
    );
  });

  it('writes ADD with every flag', () => {
    expect(
      emit({
        op: 'add',
        sources: ['https://example.com/tool.tar.gz'],
        dest: '/opt/',
        checksum: 'sha256:' + 'a'.repeat(64),
        chown: '1000:1000',
        chmod: '0644',
        link: true,
        exclude: ['docs'],
        keepGitDir: true,
      }),
    ).toBe(
      `ADD --chown=1000:1000 --chmod=0644 --link --exclude=docs --checksum=sha256:${'a'.repeat(64)} --keep-git-dir https://example.com/tool.tar.gz /opt/`,
    );
    expect(emit({ op: 'add', sources: ['vendor.tar'], dest: '/vendor/' })).toBe('ADD vendor.tar /vendor/');
  });
});

describe('metadata instructions', () => {
  it('writes ENV as one instruction, one pair per line', () => {
    expect(emit({ op: 'env', env: [['A', '1']] })).toBe('ENV A=1');
    expect(
      emit({
        op: 'env',
        env: [
          ['A', '1'],
          ['B', 'two words'],
        ],
      }),
    ).toBe('ENV A=1 \\\n    B="two words"');
  });

  it('writes LABEL, WORKDIR, USER, SHELL, EXPOSE, VOLUME and STOPSIGNAL', () => {
    expect(
      emit({
        op: 'label',
        labels: [
          ['org.opencontainers.image.title', 'api'],
          ['team', 'core infra'],
        ],
      }),
    ).toBe('LABEL org.opencontainers.image.title=api \\\n    team="core infra"');
    expect(emit({ op: 'workdir', path: '/app' })).toBe('WORKDIR /app');
    expect(emit({ op: 'user', user: '1000:1000' })).toBe('USER 1000:1000');
    expect(emit({ op: 'shell', shell: ['/bin/bash', '-euo', 'pipefail', '-c'] })).toBe(
      'SHELL ["/bin/bash", "-euo", "pipefail", "-c"]',
    );
    expect(emit({ op: 'expose', ports: ['3000', '53/udp', '8443/tcp'] })).toBe('EXPOSE 3000 53/udp 8443/tcp');
    expect(emit({ op: 'volume', paths: ['/data', '/var/log'] })).toBe('VOLUME ["/data", "/var/log"]');
    expect(emit({ op: 'stopsignal', signal: 'SIGQUIT' })).toBe('STOPSIGNAL SIGQUIT');
  });

  it('writes CMD and ENTRYPOINT in exec form as JSON and in shell form as text', () => {
    expect(emit({ op: 'cmd', command: { exec: ['node', 'server.js'] } })).toBe('CMD ["node", "server.js"]');
    expect(emit({ op: 'cmd', command: { shell: 'node server.js --port 3000' } })).toBe(
      'CMD node server.js --port 3000',
    );
    expect(emit({ op: 'entrypoint', command: { exec: ['/entrypoint.sh'] } })).toBe('ENTRYPOINT ["/entrypoint.sh"]');
    expect(emit({ op: 'entrypoint', command: { shell: 'exec /entrypoint.sh' } })).toBe(
      'ENTRYPOINT exec /entrypoint.sh',
    );
  });

  it('writes a multi-line shell-form CMD as exec form of the shell in force', () => {
    expect(emit({ op: 'cmd', command: { shell: 'echo a\necho b' } })).toBe('CMD ["/bin/sh", "-c", "echo a\\necho b"]');
    expect(
      emit(
        { op: 'shell', shell: ['/bin/ash', '-eo', 'pipefail', '-c'] },
        { op: 'entrypoint', command: { shell: 'a\nb' } },
      ),
    ).toBe('SHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nENTRYPOINT ["/bin/ash", "-eo", "pipefail", "-c", "a\\nb"]');
  });

  it('follows SHELL from a base stage', () => {
    const g = graph([
      image('app', [
        stage('base', 'busybox:latest', [node({ op: 'shell', shell: ['/bin/ash', '-c'] })]),
        stage('main', { kind: 'stage', stage: 'base' }, [node({ op: 'cmd', command: { shell: 'x\ny' } })]),
      ]),
    ]);
    expect(emitDockerfile(g, 'app', { configFile: 'c.ts' })).toContain(
      'FROM base AS main\nCMD ["/bin/ash", "-c", "x\\ny"]\n',
    );
  });

  it('writes HEALTHCHECK with every option, in both forms, and NONE', () => {
    expect(
      emit({
        op: 'healthcheck',
        healthcheck: {
          test: { shell: 'wget -qO- http://localhost:3000/health || exit 1' },
          interval: '30s',
          timeout: '5s',
          startPeriod: '1m',
          startInterval: '2s',
          retries: 3,
        },
      }),
    ).toBe(
      'HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --start-interval=2s --retries=3 CMD wget -qO- http://localhost:3000/health || exit 1',
    );
    expect(emit({ op: 'healthcheck', healthcheck: { test: { exec: ['/bin/check', '--quick'] } } })).toBe(
      'HEALTHCHECK CMD ["/bin/check", "--quick"]',
    );
    expect(emit({ op: 'healthcheck', healthcheck: { test: 'none' } })).toBe('HEALTHCHECK NONE');
  });

  it('writes ONBUILD with the instruction as given', () => {
    expect(emit({ op: 'onbuild', instruction: 'RUN npm ci' }, { op: 'onbuild', instruction: 'COPY . /app' })).toBe(
      'ONBUILD RUN npm ci\nONBUILD COPY . /app',
    );
  });
});

describe('stages', () => {
  it('writes FROM for an image, a stage, scratch, with and without a platform', () => {
    const g = graph([
      image('app', [
        stage('a', { kind: 'image', ref: 'debian:bookworm-slim', platform: 'linux/arm64' }),
        stage('b', { kind: 'stage', stage: 'a' }),
        stage('c', { kind: 'stage', stage: 'b', platform: 'linux/amd64' }),
        stage('d', 'scratch', [node({ op: 'copy', from: { kind: 'stage', stage: 'c' }, sources: ['/'], dest: '/' })]),
      ]),
    ]);
    const text = emitDockerfile(g, 'app', { configFile: 'images.config.ts' });
    expect(text).toBe(
      [
        '# Generated by drydock from images.config.ts, image "app". Edit the config, then run: drydock emit',
        '',
        'FROM --platform=linux/arm64 debian:bookworm-slim AS a',
        '',
        'FROM a AS b',
        '',
        'FROM --platform=linux/amd64 b AS c',
        '',
        'FROM scratch AS d',
        'COPY --from=c / /',
        '',
      ].join('\n'),
    );
  });

  it('rejects an image the graph does not have with DD150', () => {
    const g = single([]);
    expect(() => emitDockerfile(g, 'nope', { configFile: 'c.ts' })).toThrowError(
      expect.objectContaining({ diagnostics: [expect.objectContaining({ code: 'DD150' })] }),
    );
  });
});

it('writes each op as its own instruction keyword', () => {
  // Typed as a full record, so a new op fails the typecheck until it has a case here.
  const minimal: Record<Node['op'], [Op, string]> = {
    run: [{ op: 'run', command: { shell: 'true' }, mounts: [] }, 'RUN'],
    copy: [{ op: 'copy', from: { kind: 'context' }, sources: ['a'], dest: '/a' }, 'COPY'],
    add: [{ op: 'add', sources: ['a'], dest: '/a' }, 'ADD'],
    env: [{ op: 'env', env: [['A', 'b']] }, 'ENV'],
    workdir: [{ op: 'workdir', path: '/' }, 'WORKDIR'],
    user: [{ op: 'user', user: 'root' }, 'USER'],
    shell: [{ op: 'shell', shell: ['/bin/sh', '-c'] }, 'SHELL'],
    label: [{ op: 'label', labels: [['a', 'b']] }, 'LABEL'],
    expose: [{ op: 'expose', ports: ['80'] }, 'EXPOSE'],
    volume: [{ op: 'volume', paths: ['/v'] }, 'VOLUME'],
    cmd: [{ op: 'cmd', command: { exec: ['true'] } }, 'CMD'],
    entrypoint: [{ op: 'entrypoint', command: { exec: ['true'] } }, 'ENTRYPOINT'],
    healthcheck: [{ op: 'healthcheck', healthcheck: { test: 'none' } }, 'HEALTHCHECK'],
    stopsignal: [{ op: 'stopsignal', signal: 'SIGTERM' }, 'STOPSIGNAL'],
    onbuild: [{ op: 'onbuild', instruction: 'RUN true' }, 'ONBUILD'],
  };
  for (const [op, keyword] of Object.values(minimal)) expect(emit(op).split(' ')[0]).toBe(keyword);
});
