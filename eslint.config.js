// Lint: typescript-eslint's recommended rules plus the layering of ARCHITECTURE.md as import bans.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const banned = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'test/.tmp/**', '**/__snapshots__/**', 'examples/**/dockerfiles/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-object-type': 'off',
    },
  },
  { files: ['core/**/*.ts'], rules: banned(['drydock', '**/cli/**'], 'core never imports the CLI') },
  {
    files: ['core/src/dsl/**/*.ts', 'core/src/diagnostics/**/*.ts'],
    rules: banned(
      ['../compile/*', '../config/*', '../dockerfile/*', '../project.js'],
      'dsl and diagnostics are leaves: they import nothing above them',
    ),
  },
  {
    files: ['core/src/compile/**/*.ts'],
    rules: banned(['../config/*', '../dockerfile/*', '../project.js'], 'compile is pure: no loader, no emitter'),
  },
  {
    files: ['core/src/preset/**/*.ts'],
    rules: banned(
      ['../config/*', '../dockerfile/*', '../engine/*', '../project.js'],
      'presets build on the DSL: no loader, emitter or engine',
    ),
  },
  {
    files: ['core/src/dockerfile/**/*.ts'],
    rules: banned(['../compile/*', '../config/*', '../project.js'], 'emit consumes the graph only'),
  },
  {
    files: ['presets/**/*.ts'],
    rules: banned(['@drydock/core/*', '**/core/src/**'], 'use the public entry of @drydock/core'),
  },
  {
    // The CLI also tells the executable's code-cache loader (@drydock/core/boot) what a run did.
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@drydock/core/*', '!@drydock/core/boot'], message: 'use the public entry of @drydock/core' },
            { group: ['**/core/src/**'], message: 'use the public entry of @drydock/core' },
          ],
        },
      ],
    },
  },
);
