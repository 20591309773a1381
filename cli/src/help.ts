/**
 * Every help text of the CLI, in one place. `drydock --help` is the complete reference (README's
 * CLI section is generated from it by `npm run docs:cli`); `drydock help <command>` adds detail.
 */
import type { CommandName } from './options.js';

export const mainHelp = `drydock: build-as-code for container images

Usage: drydock <command> [options]

Commands:
  init                  Write an images.config.ts for this project with the preset that fits
    --preset NAME         go, python, static or node, instead of detecting
    --name IMAGE          the image's name (default: the directory's name)
    --force               replace an existing config
  build [IMAGE...]      Build images with drydock's own engine (no daemon; root and runc)
    --output SPEC         type=oci,dest=DIR | type=oci-archive,dest=FILE |
                          type=docker-archive,dest=FILE | type=registry (repeatable)
    --load                load into docker (or podman) under the image's tags
    --push                push to the image's tags (the config's, or -t)
    -t, --tag NAME        tag instead of the config's tags (one image only; repeatable)
    --target STAGE        build this stage of the image instead of its target
    --secret SPEC         id=ID,src=FILE or id=ID,env=VAR: overrides the config's source
    --no-cache            execute every step, ignoring cached results
    --update-lock         re-resolve base images and rewrite images.lock.json
    --progress MODE       auto (steps), plain (steps and RUN output), quiet, or json (--watch)
    -w, --watch           rebuild on every change to what the images read, until Ctrl-C
    --run                 with --watch: (re)start the built image as a container (one image)
    --on-build CMD        with --watch: run a shell command after each successful build
    --verbose             with --watch: show where each rebuild's time went
  prune                 Remove cached layers and blobs nothing references
    --all                 remove every cache record too (an empty cache)
    --older-than AGE      first drop cache records unused for AGE (30m, 12h, 7d)
    --dry-run             say what would be removed
  emit [IMAGE...]       Write each image's Dockerfile, its .dockerignore and a docker-bake.json
    -o, --out-dir DIR     where to write (default: dockerfiles/ next to the config file)
    --check               write nothing; exit 1 listing every file that differs
  graph [IMAGE...]      Print the instruction graph the config compiles to
    -f, --format FORMAT   text (default), dot, mermaid or json
  ls [IMAGE...]         List images, their stages, args and secrets (never secret values)
    --json                print the listing as JSON
  check                 Load and compile the config, then check this machine: build
                        contexts exist, secret sources are available
  help [COMMAND]        Show a command's help

Options for every command:
  -c, --config PATH     config file, or a directory holding images.config.ts (or .mts,
                        .js, .mjs); default: the current directory
  --arg NAME=VALUE      set a build arg (repeatable); checked against its declared type
  --no-color            no colors, like NO_COLOR=1 (colors are only used on a terminal)
  -h, --help            show help
  -v, --version         print drydock's version

Exit status: 0 ok; 1 problems in the config or on this machine, or files that differ
(emit --check); 2 usage error; 70 internal error (a drydock bug, please report it).
`;

export const commandHelp: Record<CommandName, string> = {
  init: `Usage: drydock init [--preset NAME] [--name IMAGE] [--force] [-c DIR]

Writes images.config.ts in the current directory (or -c DIR, or the .ts file -c names) with
one image made by the preset that fits the project, and prints what it found, the packages
to install (npm i -D drydock @drydock/preset-NAME) and the commands to run next.

Each preset recognizes its own kind of project:
  go       go.mod
  python   requirements.txt, pyproject.toml, setup.py, Pipfile, …, or else a main.py,
           app.py, server.py or run.py
  static   index.html (at the top or in public/, dist/, build/, site/, …) and no
           package.json, or a package.json with a build script and no start script
  node     package.json
When several fit, the first in that order wins (a go.mod or a Python manifest says what the
program is written in, where package.json is often tooling), and the others are listed.

Options:
  --preset NAME   use this preset (go, python, static, node) instead of detecting one
  --name IMAGE    the image's name in the config (default: the directory's name, made
                  lowercase)
  --force         replace an existing images.config.ts (or write it beside another config)

Exit status 1, writing nothing, when a config exists (without --force) or no preset fits.
`,
  build: `Usage: drydock build [IMAGE...] [options]

Builds each image (all of them unless some are named) with drydock's own engine: RUN steps
under runc on overlayfs (needs root and the runc package), COPY and ADD without a container,
every step cached by content in the store (DRYDOCK_HOME, default ~/.cache/drydock). Images the
build reads are pinned to digests in images.lock.json next to the config, written on first use.
Registry mirrors: DRYDOCK_REGISTRY_MIRRORS=docker.io=http://127.0.0.1:5000. Layer and config
times come from SOURCE_DATE_EPOCH (default 0), so the same inputs give the same digests.

Options:
  --output SPEC     where to write each image (repeatable; with several images put {image}
                    in dest): type=oci,dest=DIR  type=oci-archive,dest=FILE
                    type=docker-archive,dest=FILE  type=registry (push)
  --load            load into the local docker (or podman) under the image's tags (the
                    config's tags, or -t; <image>:latest when it has none)
  --push            push to the image's tags; credentials from ~/.docker/config.json
  -t, --tag NAME    name the image NAME instead of the config's tags, e.g.
                    127.0.0.1:5000/api:dev (one image only; repeatable)
  --target STAGE    build a stage the image uses instead of its target (one image only)
  --secret SPEC     id=ID,src=FILE or id=ID,env=VAR: where secret ID's value comes from
  --no-cache        execute every step
  --update-lock     re-resolve every image the build reads; rewrite images.lock.json
  --progress MODE   auto: one line per step; plain: also RUN output (secret values masked);
                    quiet: only the result; json (with --watch): one JSON object per event
  -w, --watch       stay running: rebuild whenever a file the images read changes (COPY/ADD
                    and bind-mount sources after ignore rules, the config and its modules),
                    only the steps whose inputs changed; a change during a build cancels it.
                    Outputs (--load, --push, --output) are refreshed after each build;
                    --no-cache and --update-lock apply to the first build only
  --run             with --watch: start the built image as a container (runc, host network,
                    output prefixed with its name); restarted after each rebuild
  --on-build CMD    with --watch: run CMD (sh -c) after each successful build, with
                    DRYDOCK_IMAGE and DRYDOCK_DIGEST set
  --verbose         with --watch: each rebuild's latency, event → hash → solve → layers →
                    export → restart

Prints one line per image: its name, manifest digest and tags. Exit status 1 when a step
fails; other images that do not depend on it are still built. With --watch, each finished
build prints \`{"event":"build-finished","image":…,"digest":…,"durationMs":…,"rebuilt":[…]}\`
under --progress json; Ctrl-C stops the build and the container, exit status 130.

Global options (-c, --arg, --no-color): see drydock --help.
`,
  prune: `Usage: drydock prune [--all | --older-than AGE] [--dry-run]

Removes what the store (DRYDOCK_HOME, default ~/.cache/drydock) holds that no cache record
references: layers, snapshots, blobs, abandoned temporary files, and the caches that only save
time (compressed layer pieces, compiled configs, context walk records, drydock's own code
caches). Never races a build: it waits for builds in progress to finish.

Options:
  --all             drop every cache record first, and the RUN cache mounts: an empty cache
  --older-than AGE  drop cache records not used for AGE first (30m, 12h, 7d)
  --dry-run         print what would be removed, remove nothing
`,
  emit: `Usage: drydock emit [IMAGE...] [-o DIR] [--check] [options]

Writes, for each image (all of them unless some are named):
  DIR/<image>.Dockerfile               the image as a Dockerfile (args stay ARGs)
  DIR/<image>.Dockerfile.dockerignore  its ignore rules (BuildKit reads <Dockerfile>.dockerignore)
and DIR/docker-bake.json with one target per image. Prints the paths it wrote; files that
are already up to date are left alone.

Build them with any BuildKit: every image at once from DIR, where the bake file's relative
paths resolve with every buildx release, or one image from the config's directory:
  cd dockerfiles && docker buildx bake
  DOCKER_BUILDKIT=1 docker build -f dockerfiles/<image>.Dockerfile <context>

Options:
  -o, --out-dir DIR   where to write (default: dockerfiles/ next to the config file). A
                      plain, visible directory because the emitted files are meant to be
                      committed: CI builds them without drydock and runs emit --check.
  --check             write nothing; compare what emit would write with DIR and exit 1
                      listing every file that differs or is missing

Global options (-c, --arg, --no-color): see drydock --help.
`,
  graph: `Usage: drydock graph [IMAGE...] [-f FORMAT] [options]

Prints the instruction graph the config compiles to for the given --arg values: for each
image (all of them unless some are named), its stages in build order and one line per node,
\`<digest>  <instruction>\`, with the stages each stage needs and the args each node uses.

Options:
  -f, --format FORMAT   text    readable, one line per node (default)
                        dot     Graphviz: drydock graph -f dot | dot -Tsvg > graph.svg
                        mermaid a flowchart for Markdown (GitHub, GitLab)
                        json    the graph itself, as the emitter and engine see it

Global options (-c, --arg, --no-color): see drydock --help.
`,
  ls: `Usage: drydock ls [IMAGE...] [--json] [options]

Lists the images (all of them unless some are named) with their tags, target stage, build
context and the stages the target needs; every arg with its type, allowed values, default,
current value and description; every secret with its id and where its value comes from.
Secret values are never read.

Options:
  --json   print the same as JSON

Global options (-c, --arg, --no-color): see drydock --help.
`,
  check: `Usage: drydock check [options]

Loads and compiles the config (with the given --arg values), then checks what only this
machine can tell: every image's build context directory exists, and every secret a RUN step
mounts has a source here (env var set, file present, command on PATH; values are not read).
Prints "ok", or every problem and exits 1.

Global options (-c, --arg, --no-color): see drydock --help.
`,
  help: `Usage: drydock help [COMMAND]

Shows the help of COMMAND (init, build, prune, emit, graph, ls, check), or the overview without one.
`,
};

/** The hint a usage error ends with. */
export function seeHelp(command?: CommandName): string {
  return command && command !== 'help' ? `see drydock ${command} --help` : 'see drydock --help';
}
