export { compile, type CompileOptions, type CompileResult } from './compile.js';
export { describeArgType, parseArgValue } from './args.js';
