import { checkImageNames } from '../images.js';
import { listing, type Listing, type SecretEntry } from '../listing.js';
import { flag, openProject, type Command } from '../context.js';
import { table } from '../table.js';

/** `drydock ls [IMAGE...] [--json]`: images, args and secrets, as tables or JSON. */
export const ls: Command = async (ctx) => {
  const project = await openProject(ctx, { requireArgValues: false });
  checkImageNames(project.graph, ctx.line.positionals);
  const list = listing(project.config, project.graph, ctx.line.positionals);
  if (flag(ctx, 'json')) ctx.out.printRaw(JSON.stringify(list, null, 2) + '\n');
  else for (const line of tables(list)) ctx.out.print(line);
  return 0;
};

function tables(list: Listing): string[] {
  const none = '-';
  const sections = [
    table(
      ['IMAGE', 'TARGET', 'CONTEXT', 'TAGS', 'STAGES', 'DESCRIPTION'],
      list.images.map((i) => [
        i.name,
        i.target,
        i.context,
        i.tags.join(', ') || none,
        i.stages.join(', '),
        i.description ?? '',
      ]),
    ),
  ];
  if (list.args.length > 0) {
    sections.push(
      table(
        ['ARG', 'TYPE', 'ALLOWED', 'DEFAULT', 'VALUE', 'DESCRIPTION'],
        list.args.map((a) => [
          a.name,
          a.type,
          a.allowed,
          a.default ?? none,
          a.value === undefined ? '(required)' : a.given ? `${a.value} (--arg)` : a.value,
          a.description ?? '',
        ]),
      ),
    );
  }
  if (list.secrets.length > 0) {
    sections.push(
      table(
        ['SECRET', 'SOURCE', 'DESCRIPTION'],
        list.secrets.map((s) => [s.id, describeSource(s), s.description ?? '']),
      ),
    );
  }
  return sections.flatMap((lines, i) => (i === 0 ? lines : ['', ...lines]));
}

function describeSource(s: SecretEntry): string {
  switch (s.source) {
    case 'env':
      return `env ${s.from}`;
    case 'file':
      return `file ${s.from}`;
    case 'file-env':
      return `file named by env ${s.from}`;
    case 'command':
      return `output of \`${s.from}\``;
  }
}
