/** Drops undefined fields so DSL values stay minimal, stable plain data. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
