/**
 * Reading a password for `fooocus users`: from a terminal, typed twice without echo; otherwise the first line of
 * standard input (`printf '%s\n' "$PW" | fooocus users add alice`). Never from a flag or an argument, where it
 * would be seen in `ps` and shell history.
 */
import { UsageError } from './command.ts';

/** The part of a TTY read stream this needs (process.stdin, or a fake in tests). */
export interface PasswordInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

const MAX_PIPED_BYTES = 64 * 1024;

export async function readPassword(input: PasswordInput, output: NodeJS.WritableStream, prompt = 'Password'): Promise<string> {
  if (input.isTTY !== true || input.setRawMode === undefined) return readFirstLine(input);
  const first = await readHiddenLine(input, output, `${prompt}: `);
  const second = await readHiddenLine(input, output, `${prompt} again: `);
  if (first !== second) throw new UsageError('the two passwords differ; nothing was changed');
  return first;
}

async function readFirstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += String(chunk);
    if (text.includes('\n')) break;
    if (text.length > MAX_PIPED_BYTES) throw new UsageError('standard input holds no line break in its first 64 KiB; pipe one line with the password');
  }
  const line = text.split('\n', 1)[0]!.replace(/\r$/, '');
  if (line === '') throw new UsageError('no password on standard input: pipe one line with it, or run this in a terminal to be asked for it');
  return line;
}

/**
 * One line typed in raw mode with nothing echoed. Backspace deletes a character, Ctrl-U the whole line; Ctrl-C
 * and Ctrl-D cancel; other control characters and escape sequences (arrow keys) are ignored.
 */
export function readHiddenLine(input: PasswordInput, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  input.setRawMode!(true); // before the prompt: keys typed once it shows must not be echoed
  input.resume();
  output.write(prompt);
  let chars: string[] = [];
  return new Promise<string>((resolve, reject) => {
    const finish = (error: Error | null): void => {
      input.removeListener('data', onData);
      input.setRawMode!(false);
      input.pause();
      output.write('\n');
      if (error === null) resolve(chars.join(''));
      else reject(error);
    };
    const onData = (data: Buffer | string): void => {
      const text = String(data);
      if (text.startsWith('\u001b')) return; // an escape sequence arrives as one chunk
      for (const c of text) {
        if (c === '\r' || c === '\n') return finish(null);
        if (c === '\u0003' || (c === '\u0004' && chars.length === 0)) return finish(new UsageError('cancelled; nothing was changed'));
        if (c === '\u007f' || c === '\b') chars.pop();
        else if (c === '\u0015') chars = [];
        else if (c >= ' ') chars.push(c);
      }
    };
    input.on('data', onData);
  });
}
