/**
 * `@drydock/core/prepare`: required for its effect by the executable before anything else when the
 * command is a build. It starts the worker thread that checks build contexts against their walk
 * records (context/record-check.ts), so that the worker's ~30 ms start-up runs while the main
 * thread loads the CLI and the project, not after.
 */
import { checkEarly, earlyChecksFile, prepareRecordChecks } from './context/record-check.js';
import { resolveRoot, storePaths } from './store/paths.js';

prepareRecordChecks();
// The checks the last run of this very command line asked the worker for (see record-check.ts).
checkEarly(earlyChecksFile(storePaths(resolveRoot()).base, [process.cwd(), ...process.argv.slice(2)]));
