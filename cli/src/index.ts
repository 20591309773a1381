/** The `drydock` package: the library's public API, for images.config.ts files. */
export * from '@drydock/core';
