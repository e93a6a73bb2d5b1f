/**
 * `ms` (the duration parser Temporal's `sleep` uses, and so the one the workflows use) ships no types that
 * TypeScript finds through its package exports. Only the parsing form is declared.
 */
declare module 'ms' {
  /** Milliseconds of a duration such as `'3 days'`; NaN or undefined when it is none; throws on a non-string. */
  function ms(value: string): number | undefined;
  export default ms;
}
