/**
 * `@drydock/core/prepare`: imported for its effect by the executable before anything else when the
 * command is a build. It starts the worker thread that checks build contexts against their walk
 * records (context/record-check.ts), so that the worker's ~30 ms start-up runs while the main
 * thread loads the CLI and the project, not after.
 */
import { prepareRecordChecks } from './context/record-check.js';

prepareRecordChecks();
