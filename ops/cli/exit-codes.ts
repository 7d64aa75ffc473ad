/** DESIGN.md, Operating rules: exit codes. */
export const EXIT = {
  OK: 0,
  /** Negative result: invalid config, verification failed. */
  NEGATIVE: 1,
  USAGE: 2,
  /** Could not check: a dependency is unreachable. */
  UNAVAILABLE: 3,
  /** Forced stop at the drain deadline. */
  FORCED: 4,
} as const;
