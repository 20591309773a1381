export * from './dsl/index.js';
