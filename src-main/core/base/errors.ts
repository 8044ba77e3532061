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

/** How a caller names an option, given its key (`valSplit`): a flag (`--val-split`), a field of a form. */
export type OptionNamer = (option: string) => string;

/** A message that names options; each caller names them its own way. */
export type OptionMessage = (name: OptionNamer) => string;

/** The core names options by their keys in the options object. */
const byKey: OptionNamer = (option) => option;

/**
 * An option that cannot be used (or options that cannot be used together): the run cannot start. The
 * message names options by key; `describe` names them as the caller does (the CLI by its flags).
 */
export class OptionError extends UsageError {
  override name = 'OptionError';

  constructor(private readonly text: OptionMessage) {
    super(text(byKey));
  }

  describe(name: OptionNamer): string {
    return this.text(name);
  }
}

/** A run that failed where other options may succeed (e.g. a lower learning rate); `describe` as OptionError's. */
export class RunError extends Error {
  override name = 'RunError';

  constructor(private readonly text: OptionMessage) {
    super(text(byKey));
  }

  describe(name: OptionNamer): string {
    return this.text(name);
  }
}

/** The message of an error with its options named by `name`, where it names any. */
export function describeError(err: unknown, name: OptionNamer): string {
  if (err instanceof OptionError || err instanceof RunError) return err.describe(name);
  return err instanceof Error ? err.message : String(err);
}
