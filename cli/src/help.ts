/**
 * Every help text of the CLI, in one place. `drydock --help` is the complete reference (README's
 * CLI section is generated from it by `npm run docs:cli`); `drydock help <command>` adds detail.
 */
import type { CommandName } from './options.js';

export const mainHelp = `drydock: build-as-code for container images

Usage: drydock <command> [options]

Commands:
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

Shows the help of COMMAND (emit, graph, ls, check), or the overview without one.
`,
};

/** The hint a usage error ends with. */
export function seeHelp(command?: CommandName): string {
  return command && command !== 'help' ? `see drydock ${command} --help` : 'see drydock --help';
}
