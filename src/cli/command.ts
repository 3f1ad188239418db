import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FooocusError } from '../engine/index.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What every subcommand receives: its own arguments and the streams to write to (tests pass their own). */
export interface CommandContext {
  argv: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
  parse<O extends Options>(options: O): ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>;
}

/** A usage mistake: exit code 2 and a one-line message naming the option. */
export class UsageError extends FooocusError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/** The process's streams and cancellation signal, injected so tests can capture them. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
}

export function createContext(argv: string[], io: CliIo): CommandContext {
  return {
    argv,
    ...io,
    parse(options) {
      try {
        return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    },
  };
}
