/** Exit statuses of the command line, as documented in docs/command-line.md. */
export const EXIT = {
  ok: 0,
  /** Usage errors and fatal errors. */
  usage: 1,
  fatal: 1,
  /** Some files could not be read; the rest were processed. */
  someFilesFailed: 3,
  /** lint listed problems. */
  problemsFound: 3,
  /** Stopped by Ctrl-C; what was done was written. */
  interrupted: 130,
} as const;
