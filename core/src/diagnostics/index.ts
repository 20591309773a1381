export { codes, type DiagnosticCode } from './codes.js';
export {
  DiagnosticError,
  error,
  formatDiagnostic,
  isDiagnosticError,
  type ConfigPath,
  type Diagnostic,
} from './diagnostic.js';
