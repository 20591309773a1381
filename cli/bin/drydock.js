#!/usr/bin/env node
/* global process */
// A build first starts the worker thread that checks its contexts (see core/src/prepare.ts), so
// that the worker's start-up overlaps loading the CLI.
if (process.argv.slice(2).includes('build')) await import('@drydock/core/prepare');
await import('../dist/drydock.js');
