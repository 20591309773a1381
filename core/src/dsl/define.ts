import type { ArgSpecs, Config, ImageHandle, ImagesShape, SecretSpecs } from './types.js';

/**
 * Declares an images config. An identity function that exists for type inference: stage names,
 * arg names and secret names become literal types, so a typo is a type error in the editor.
 */
export function defineConfig<A extends ArgSpecs, S extends SecretSpecs, I extends ImagesShape<A, S>>(
  config: Config<A, S, I>,
): Config<A, S, I> {
  return config;
}

/** An image reference written without a tag (`image('busybox')`), or any reference at all. */
export function image(ref: string): ImageHandle {
  return { kind: 'image', ref };
}
