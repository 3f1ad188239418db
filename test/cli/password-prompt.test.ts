/** The terminal password prompt: nothing typed is echoed, editing keys work, raw mode is always restored. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/cli/command.ts';
import { readPassword, type PasswordInput } from '../../src/cli/password-prompt.ts';

/** A fake terminal: keystrokes are written in chunks, as a TTY in raw mode delivers them. */
function createTerminal(): { input: PasswordInput; output: PassThrough; printed: () => string; rawModes: boolean[]; type: (...keys: string[]) => void } {
  const input = new PassThrough() as PassThrough & PasswordInput;
  const rawModes: boolean[] = [];
  input.isTTY = true;
  input.setRawMode = (mode: boolean) => rawModes.push(mode);
  const output = new PassThrough();
  let printed = '';
  output.on('data', (d: Buffer) => (printed += d.toString()));
  const type = (...keys: string[]): void => {
    const send = (i: number): void => {
      if (i === keys.length) return;
      input.write(keys[i]);
      setImmediate(() => send(i + 1));
    };
    setImmediate(() => send(0));
  };
  return { input, output, printed: () => printed, rawModes, type };
}

describe('password prompt', () => {
  it('reads the password twice without echo; backspace, Ctrl-U and arrow keys edit as expected', async () => {
    const t = createTerminal();
    t.type('secret', '\u007f\u007f', 'XY', '\u001b[D', ' pässwörd', '\r', 'junk\u0015', 'secrXY pässwörd', '\r');
    const password = await readPassword(t.input, t.output);
    assert.equal(password, 'secrXY pässwörd');
    assert.equal(t.printed(), 'Password: \nPassword again: \n');
    assert.deepEqual(t.rawModes, [true, false, true, false]);
  });

  it('refuses two different entries, and cancels on Ctrl-C, or Ctrl-D on an empty line, leaving raw mode off', async () => {
    const differ = createTerminal();
    differ.type('first password', '\r', 'second password', '\r');
    await assert.rejects(readPassword(differ.input, differ.output), (err) => err instanceof UsageError && /differ/.test(err.message));

    for (const keys of [['half', '\u0003'], ['\u0004']]) {
      const t = createTerminal();
      t.type(...keys);
      await assert.rejects(readPassword(t.input, t.output), (err) => err instanceof UsageError && /cancelled/.test(err.message));
      assert.deepEqual(t.rawModes, [true, false]);
    }
  });

  it('takes the first line of piped input, without its line ending', async () => {
    const piped = new PassThrough();
    piped.end('piped password\r\nsecond line\n');
    assert.equal(await readPassword(piped, new PassThrough()), 'piped password');
  });
});
