/**
 * Errors of configuration loading, typed by what the user can do about them. Each message is one line that names
 * the key (or variable, or flag) and the fix, so the CLI prints it as is and exits 2.
 */
import { FooocusError } from '../../engine/index.ts';

/**
 * A configuration value the user must correct: an unknown key, a wrong type, an unknown `FOOOCUS_*` variable, a
 * file that is not JSON. `key` is the dotted key path (`server.port`) when one is known; `file` is the config file
 * the value came from (unset when it came from the environment, a flag or no file at all).
 */
export class ConfigError extends FooocusError {
  readonly key: string | null;
  /** Where the bad value came from: `file:<path>`, `env:FOOOCUS_X` or `flag:--x`. */
  readonly source: string;

  constructor(message: string, details: { key: string | null; file: string | null; source: string }) {
    super('invalid', message, { ...(details.key === null ? {} : { field: details.key }), ...(details.file === null ? {} : { file: details.file }) });
    this.key = details.key;
    this.source = details.source;
  }
}

/** A config file or models directory that someone other than its owner (and root) could change. */
export class InsecurePermissionsError extends FooocusError {
  constructor(
    readonly path: string,
    /** Permission bits (`stat.mode & 0o7777`). */
    readonly mode: number,
    message: string,
  ) {
    super('invalid', message, { file: path });
  }
}

/** Why a config lock refused: the config's bytes changed since `fooocus config lock`, or the config is gone. */
export type ConfigLockProblem = 'changed' | 'config-missing' | 'invalid-lock';

/** The config file does not match its `.lock` (or the lock has no config): someone changed it since it was locked. */
export class ConfigLockMismatchError extends FooocusError {
  constructor(file: string, readonly lockFile: string, readonly problem: ConfigLockProblem, detail = '') {
    super('invalid', describeLockProblem(file, lockFile, problem, detail), { file });
  }
}

function describeLockProblem(file: string, lockFile: string, problem: ConfigLockProblem, detail: string): string {
  switch (problem) {
    case 'changed':
      return (
        `${file}: config file changed since it was locked (${detail}); review the change and run ` +
        '`npm run fooocus -- config lock` again'
      );
    case 'config-missing':
      return (
        `${lockFile}: lock file exists but its config ${file} does not; restore the config, or delete the lock ` +
        'if you removed the config on purpose'
      );
    case 'invalid-lock':
      return `${lockFile}: not a valid config lock (${detail}); review ${file} and run \`npm run fooocus -- config lock\` again`;
  }
}
