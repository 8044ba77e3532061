/** A file that could not be used, with a reason a person can act on. */
export class FileProblem extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'FileProblem';
  }
}

/** Bad arguments or a bad model folder: the command cannot start. */
export class UsageError extends Error {
  override name = 'UsageError';
}
