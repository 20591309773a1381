#!/usr/bin/env node
/* global require, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script */
'use strict';
// The executable's script (cli/bin/drydock runs node on it). CommonJS, like everything a build
// loads on this thread: the first ES module a process imports costs ~10 ms of loader start-up.
const build = process.argv.slice(2).includes('build');
// A build first starts the worker thread that checks its contexts (see core/src/prepare.ts), so
// that the worker's start-up overlaps loading the CLI.
if (build) require('@drydock/core/prepare');
// The core and CLI bundles, compiled from their code cache (see core/src/boot.ts); a build keeps
// the cache of what it compiled for the next one.
const boot = require('@drydock/core/boot');
boot.loadBundle(boot.CORE_BUNDLE);
const cli = boot.loadBundle(require('node:path').join(__dirname, '../dist/drydock.cjs'));
if (build) boot.keepCodeCaches();
void cli.run();
