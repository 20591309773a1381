// The equivalence tests run programs with the e2e helpers (stdin closed unless given input).
export { docker, drydock, exec } from '../e2e/helpers.js';
