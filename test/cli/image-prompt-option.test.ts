/** `generate --image-prompt IMG[:type[:stop[:weight]]]`: parsed parts, defaults left to the type, bad parts exit 2 naming the part. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseImagePromptOptions } from '../../src/cli/commands/image-prompt-option.ts';
import { runCli as run } from './cli-run.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-image-prompt-option-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const base = ['generate', 'a boat', '--models', path.join(dir, 'models'), '--out', path.join(dir, 'out'), '--size', '64x64', '--steps', '2'];

describe('--image-prompt', () => {
  it('reads the image, and the type (any case), stop and weight when given', () => {
    assert.deepEqual(parseImagePromptOptions(['a.png', 'b.png:faceswap', 'c.png:PyraCanny:0.4', 'd.png:cpds:1:1.5']), [
      { file: path.resolve('a.png') },
      { file: path.resolve('b.png'), type: 'FaceSwap' },
      { file: path.resolve('c.png'), type: 'PyraCanny', stopAt: 0.4 },
      { file: path.resolve('d.png'), type: 'CPDS', stopAt: 1, weight: 1.5 },
    ]);
    assert.deepEqual(parseImagePromptOptions(['e.png::0.2']), [{ file: path.resolve('e.png'), stopAt: 0.2 }]);
    assert.equal(parseImagePromptOptions(undefined), undefined);
  });

  it('exits 2 naming the bad part', async () => {
    const cases: [string[], RegExp][] = [
      [['--image-prompt', 'a.png:Canny'], /--image-prompt "a\.png:Canny": unknown type "Canny"; types: ImagePrompt, FaceSwap, PyraCanny, CPDS/],
      [['--image-prompt', 'a.png:ImagePrompt:1.5'], /--image-prompt "a\.png:ImagePrompt:1\.5": stop must be a number in 0\.\.1, got "1\.5"/],
      [['--image-prompt', 'a.png:ImagePrompt:0.5:x'], /weight must be a number in 0\.\.2, got "x"/],
      [['--image-prompt', 'a.png:ImagePrompt:0.5:1:extra'], /expected IMG\[:type\[:stop\[:weight\]\]\]/],
      [['--image-prompt', ':FaceSwap'], /the image file is missing/],
      [['--image-prompt', 'a.png', '--image-prompt', 'b.png', '--image-prompt', 'c.png', '--image-prompt', 'd.png', '--image-prompt', 'e.png'], /--image-prompt: 5 given; at most 4/],
    ];
    for (const [args, message] of cases) {
      const r = await run([...base, ...args]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
    }
  });
});
