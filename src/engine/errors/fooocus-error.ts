/**
 * The one error model of the project. Every error a user can act on extends FooocusError and says, as data, what
 * kind of problem it is and what it is about (a field, a file, a rule, a limit). The layers above translate the
 * kind once each: the server to an HTTP status (server/error-mapping.ts), the CLI to an exit code
 * (cli/exit-codes.ts). Nothing here knows HTTP or the command line.
 *
 * The message may name absolute paths, for the CLI and the server log. `publicMessage` is the same text with the
 * file named by `fileLabel` instead (a model's store name, a file's base name): that is what API clients see.
 *
 * An error crosses a process boundary as ErrorData (plain, structured-clone safe) and comes back with
 * `reviveError` with the same name, kind, messages and details, so the far side decides exactly as the near side
 * would have. Pure TypeScript without Node imports: the browser build compiles the request modules that use it.
 */

/** What the user can do about it. */
export type ErrorKind =
  /** Correct the input: a request field, a flag, a config key, a file that breaks a format rule. */
  | 'invalid'
  /** The input is bigger than allowed (an upload over the pixel quota); a smaller one would do. */
  | 'too-large'
  /** The thing named does not exist (or belongs to someone else: the two are indistinguishable on purpose). */
  | 'not-found'
  /** The thing is in a state that forbids the action; wait or change the state first. */
  | 'conflict'
  /** A quota is used up; wait or free some. */
  | 'quota'
  /** Something outside the request is not there right now (a closing queue, a stopped worker); retry later. */
  | 'unavailable'
  /** A bug or an unexpected failure: nothing the user did; details go to the log only. */
  | 'internal';

export const ERROR_KINDS: readonly ErrorKind[] = ['invalid', 'too-large', 'not-found', 'conflict', 'quota', 'unavailable', 'internal'];

export interface ErrorDetails {
  /** The request field, flag or config key at fault (`loras[0].weight`, `server.port`, `--steps`). */
  field?: string;
  /** The rule it broke, as a stable id (`installed`, `maximum`, `maxQueuedJobs`). */
  rule?: string;
  /** The bound the rule compares against, when it has one. */
  limit?: number;
  /** The file at fault, as the program opened it (often absolute): for the CLI and the log only. */
  file?: string;
  /** How API clients see `file` (a model's store name); defaults to its base name. */
  fileLabel?: string;
  retryAfterSeconds?: number;
}

/** An error as plain data: what crosses the worker boundary (structured clone) and what a job stores. */
export interface ErrorData extends ErrorDetails {
  /** The class name (`ModelChangedError`): a stable, machine-readable code. */
  name: string;
  kind: ErrorKind;
  message: string;
  publicMessage: string;
}

export class FooocusError extends Error {
  readonly field: string | undefined;
  readonly rule: string | undefined;
  readonly limit: number | undefined;
  readonly file: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** The message with `file` replaced by its label: never an absolute path. */
  readonly publicMessage: string;

  constructor(readonly kind: ErrorKind, message: string, { fileLabel, ...details }: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    ({ field: this.field, rule: this.rule, limit: this.limit, file: this.file, retryAfterSeconds: this.retryAfterSeconds } = details);
    this.publicMessage = hideFile(message, details.file, fileLabel);
  }

  toData(): ErrorData {
    const { name, kind, message, publicMessage, field, rule, limit, file, retryAfterSeconds } = this;
    const details = Object.entries({ field, rule, limit, file, retryAfterSeconds }).filter(([, value]) => value !== undefined);
    return { name, kind, message, publicMessage, ...Object.fromEntries(details) };
  }
}

/** An error re-created from ErrorData on the far side of a process boundary; `name` is the original class's. */
export class RevivedError extends FooocusError {
  override readonly publicMessage: string;

  constructor(data: ErrorData) {
    const { name, kind, message, publicMessage, ...details } = data;
    super(kind, message, details);
    this.name = name;
    this.publicMessage = publicMessage;
  }
}

/**
 * Any thrown value as ErrorData. Errors outside the model become `internal` with a public message that says
 * nothing about them; their message stays for the log.
 */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof FooocusError) return err.toData();
  const message = err instanceof Error ? err.message : String(err);
  return { name: err instanceof Error ? err.name : 'Error', kind: 'internal', message, publicMessage: 'internal error' };
}

export function reviveError(data: ErrorData): FooocusError {
  return new RevivedError(data);
}

/** True for the errors whose message may be shown to an API client as is: everything the user can act on. */
export function isUserError(err: unknown): err is FooocusError {
  return err instanceof FooocusError && err.kind !== 'internal';
}

function hideFile(message: string, file: string | undefined, label: string | undefined): string {
  if (file === undefined || file === '') return message;
  const shown = label ?? file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  // JSON-quoted copies too (`"…/models/x.safetensors"`), as some messages print the path that way.
  return message.replaceAll(JSON.stringify(file), JSON.stringify(shown)).replaceAll(file, shown);
}
