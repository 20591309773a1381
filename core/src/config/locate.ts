import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as TS from 'typescript';
import type { ConfigPath, Diagnostic } from '../diagnostics/index.js';
import type { SourceLoc } from '../dsl/types.js';

// The TypeScript parser is big and only needed on the error path, so it is required on first use.
let tsModule: typeof TS | undefined;
function ts(): typeof TS {
  return (tsModule ??= createRequire(import.meta.url)('typescript') as typeof TS);
}

/**
 * Where in the config source a problem sits, for diagnostics no DSL call site was captured for.
 * Prefers `field: 'value'` (any `field` when no value is given; else a key `value` in the object
 * written for `field`, as in `secrets: { npm: … }`) inside the `stage` property of the `image`
 * property; failing that, the stage property, then the image property; else undefined.
 */
export function locate(file: string, path: ConfigPath): SourceLoc | undefined {
  const source = parse(
    file,
    read(() => readFileSync(file, 'utf8')),
  );
  return source && locateIn(source, file, path);
}

/** Fills `loc` of the diagnostics that have a `path` but no `loc`, parsing the config once. */
export async function withLocations(diagnostics: readonly Diagnostic[], file: string): Promise<Diagnostic[]> {
  if (!diagnostics.some((d) => d.path && !d.loc)) return [...diagnostics];
  const source = parse(file, await readFile(file, 'utf8').catch(() => undefined));
  return diagnostics.map((d) => {
    const loc = source && d.path && !d.loc ? locateIn(source, file, d.path) : undefined;
    return loc ? { ...d, loc } : d;
  });
}

/** The `export default` of a config (or `module.exports =`), else its first line: where DD102 points. */
export function locateDefaultExport(file: string): SourceLoc {
  const source = parse(
    file,
    read(() => readFileSync(file, 'utf8')),
  );
  const t = ts();
  const statement = source?.statements.find(
    (s) =>
      t.isExportAssignment(s) ||
      (t.isExpressionStatement(s) &&
        t.isBinaryExpression(s.expression) &&
        s.expression.left.getText(source) === 'module.exports'),
  );
  return source && statement ? position(source, file, statement) : { file, line: 1, column: 1 };
}

function read(get: () => string): string | undefined {
  try {
    return get();
  } catch {
    return undefined; // an unreadable config just leaves the diagnostic unlocated
  }
}

function parse(file: string, text: string | undefined): TS.SourceFile | undefined {
  if (text === undefined) return undefined;
  const t = ts();
  const kind = /\.[cm]?jsx?$/.test(file) ? t.ScriptKind.JS : t.ScriptKind.TS;
  return t.createSourceFile(file, text, t.ScriptTarget.Latest, true, kind);
}

function locateIn(source: TS.SourceFile, file: string, path: ConfigPath): SourceLoc | undefined {
  const image = path.image === undefined ? undefined : member(source, path.image, 'images');
  let stage = path.stage === undefined || !image ? undefined : member(image, path.stage, 'stages');
  // A single-stage image's one stage is named after the image and written as `stage: { … }`.
  if (!stage && image && path.stage === path.image) stage = member(image, 'stage', path.image);
  const scope = stage ?? image ?? source;
  if (path.field !== undefined) {
    const hit =
      properties(scope, path.field).find((p) => path.value === undefined || literalOf(p) === path.value) ??
      (path.value === undefined ? undefined : member(scope, path.value, path.field));
    if (hit) return position(source, file, hit);
  }
  const fallback = stage ?? image;
  return fallback && position(source, file, fallback);
}

type Property = TS.PropertyAssignment | TS.ShorthandPropertyAssignment | TS.MethodDeclaration;

/** Properties named `name` anywhere under `root`, in source order. */
function properties(root: TS.Node, name: string): Property[] {
  const t = ts();
  const hits: Property[] = [];
  const visit = (node: TS.Node): void => {
    if (
      (t.isPropertyAssignment(node) || t.isShorthandPropertyAssignment(node) || t.isMethodDeclaration(node)) &&
      nameOf(node.name) === name
    ) {
      hits.push(node);
    }
    t.forEachChild(node, visit);
  };
  t.forEachChild(root, visit);
  return hits;
}

/**
 * The first property `name` under `root` that is a member of the object written for `owner`
 * (`images: { api: … }`, `stages: (ctx) => ({ build: … })`, `const images = { … }`), so a label
 * called `api` is not mistaken for the image. Without an owner, the first property `name`.
 */
function member(root: TS.Node, name: string, owner: string | undefined): Property | undefined {
  return properties(root, name).find((p) => owner === undefined || ownerOf(p, root) === owner);
}

/** The name of the nearest property, method or variable enclosing `node`, up to `stop`. */
function ownerOf(node: TS.Node, stop: TS.Node): string | undefined {
  const t = ts();
  for (let n = node.parent; n; n = n.parent) {
    if (t.isPropertyAssignment(n) || t.isMethodDeclaration(n)) return nameOf(n.name);
    if (t.isVariableDeclaration(n)) return t.isIdentifier(n.name) ? n.name.text : undefined;
    if (n === stop) break;
  }
  return undefined;
}

function nameOf(name: TS.PropertyName): string | undefined {
  const t = ts();
  if (t.isIdentifier(name) || t.isStringLiteralLike(name) || t.isNumericLiteral(name)) return name.text;
  if (t.isComputedPropertyName(name) && t.isStringLiteralLike(name.expression)) return name.expression.text;
  return undefined;
}

/** The string a property's value is written as, if it is a literal. */
function literalOf(property: Property): string | undefined {
  const t = ts();
  if (!t.isPropertyAssignment(property)) return undefined;
  let node = property.initializer;
  // `'x' as const` and `'x' satisfies T` still name the literal.
  while (t.isAsExpression(node) || t.isSatisfiesExpression(node) || t.isParenthesizedExpression(node)) {
    node = node.expression;
  }
  return t.isStringLiteralLike(node) || t.isNumericLiteral(node) ? node.text : undefined;
}

function position(source: TS.SourceFile, file: string, node: TS.Node): SourceLoc {
  const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
  return { file, line: line + 1, column: character + 1 };
}
