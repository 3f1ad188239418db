/** What `generate` says about an option the user got wrong: the option, the file, and only useful suggestions. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InvalidImageError, readImageFile } from '../../src/engine/index.ts';
import { runCli as run } from './cli-run.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-option-messages-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const models = path.join(dir, 'models');
const notes = path.join(dir, 'notes.png');
writeFileSync(notes, 'a text file with an image name\n');
const base = ['generate', 'a boat', '--models', models, '--out', path.join(dir, 'out'), '--size', '64x64', '--steps', '2'];

describe('generate option messages', () => {
  it('--input with a file that is not an image names the option and the file', async () => {
    const r = await run([...base, '--input', notes]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`^error: --input ${notes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a PNG, JPEG or WebP file`, 'm'));
  });

  it('readImageFile names its source and the file', async () => {
    await assert.rejects(readImageFile(notes, { source: 'input.image' }), (err: unknown) => err instanceof InvalidImageError && err.message.startsWith(`input.image ${notes}: not a PNG`));
  });

  it('an unknown --style gets the nearest names only, not the list', async () => {
    const r = await run([...base, '--style', 'Photo Flim 35mm']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^error: --style: unknown style "Photo Flim 35mm"; did you mean "Photo Film 35mm"[^\n]*\?\n$/);
    assert.ok(!r.err.includes('Random Style') && r.err.split('"').length <= 10, r.err);
    const none = await run([...base, '--style', 'qqqqqqqqqqqqqqqq']);
    assert.equal(none.code, 2);
    assert.match(none.err, /unknown style "qqqqqqqqqqqqqqqq"; no style has a similar name/);
    assert.ok(!none.err.includes('Random Style'));
  });
});
