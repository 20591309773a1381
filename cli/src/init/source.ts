/**
 * The `images.config.ts` that `drydock init` writes, built as a syntax tree with ts-morph and
 * printed in the repository's prettier style (single quotes, trailing commas, two spaces).
 * ts-morph brings a whole TypeScript compiler: it is required here, on use, and nowhere else.
 */
import { createRequire } from 'node:module';

export interface ConfigSpec {
  /** The image's name, the key under `images`. */
  readonly image: string;
  /** The preset's npm package and the name it exports. */
  readonly package: string;
  readonly importName: string;
  /** Ignore patterns for the image, when the preset's own miss something (node_modules). */
  readonly ignore?: readonly string[];
  /** Lines of the comment at the top of the file. */
  readonly comment: readonly string[];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export async function configSource(spec: ConfigSpec): Promise<string> {
  // Loaded on first use (only `drydock init` needs it), with require: see presets.ts loadPreset.
  const { IndentationText, NewLineKind, Project, QuoteKind, SyntaxKind } = createRequire(import.meta.url)(
    'ts-morph',
  ) as typeof import('ts-morph');
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: {
      quoteKind: QuoteKind.Single,
      indentationText: IndentationText.TwoSpaces,
      newLineKind: NewLineKind.LineFeed,
      useTrailingCommas: true,
    },
  });
  const file = project.createSourceFile('images.config.ts');
  file.addStatements((w) => {
    w.writeLine('/**');
    for (const line of spec.comment) w.writeLine(line === '' ? ' *' : ` * ${line}`);
    w.writeLine(' */');
  });
  file.addImportDeclaration({ namedImports: ['defineConfig'], moduleSpecifier: 'drydock' });
  file.addImportDeclaration({ namedImports: [spec.importName], moduleSpecifier: spec.package });

  const config = file
    .addExportAssignment({ isExportEquals: false, expression: 'defineConfig({})' })
    .getExpressionIfKindOrThrow(SyntaxKind.CallExpression)
    .getArguments()[0]!
    .asKindOrThrow(SyntaxKind.ObjectLiteralExpression);
  const images = config
    .addPropertyAssignment({ name: 'images', initializer: '{}' })
    .getInitializerIfKindOrThrow(SyntaxKind.ObjectLiteralExpression);
  const call = images
    .addPropertyAssignment({
      name: IDENTIFIER.test(spec.image) ? spec.image : quote(spec.image),
      initializer: `${spec.importName}()`,
    })
    .getInitializerIfKindOrThrow(SyntaxKind.CallExpression);
  if (spec.ignore?.length) {
    const options = call.addArgument('{}').asKindOrThrow(SyntaxKind.ObjectLiteralExpression);
    const list = options
      .addPropertyAssignment({
        name: 'ignore',
        initializer: '[]',
        leadingTrivia: (w) => w.writeLine('// drydock and the preset live in node_modules: not part of the image'),
      })
      .getInitializerIfKindOrThrow(SyntaxKind.ArrayLiteralExpression);
    for (const pattern of spec.ignore) list.addElement(quote(pattern), { useNewLines: false });
  }
  file.formatText({ indentSize: 2, convertTabsToSpaces: true, ensureNewLineAtEndOfFile: true });
  return file.getFullText();
}

/** A single-quoted string literal. */
function quote(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
