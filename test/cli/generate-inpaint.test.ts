import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { SOFT_MASK_REACH } from '../../src/engine/inpaint/grey-mask.ts';
import { encodePngChunk, PNG_SIGNATURE } from '../../src/engine/output/png-chunks.ts';
import { decodePng, encodePng } from '../../src/engine/output/png.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { makePicture, pixelsFarFrom, rectangleMask } from '../engine/inpaint/inpaint-harness.ts';
import { runCli as run, savedPath } from './cli-run.ts';

const W = 88;
const H = 72;

/** A PNG whose header declares 100000 x 100000 pixels (a decompression bomb's promise). */
function hugePng(): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, 100_000);
  view.setUint32(4, 100_000);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([PNG_SIGNATURE, encodePngChunk('IHDR', ihdr), encodePngChunk('IDAT', deflateSync(new Uint8Array(4))), encodePngChunk('IEND', new Uint8Array())]);
}

function greyPng(mask: { width: number; height: number; data: Uint8Array }): Uint8Array {
  return encodePng(Uint8Array.from({ length: mask.data.length * 3 }, (_, i) => mask.data[Math.floor(i / 3)]!), mask.width, mask.height);
}

describe('fooocus generate --mask / --outpaint', () => {
  let dir: string;
  let models: string;
  let model: string;
  const picture = makePicture(W, H);
  const mask = rectangleMask(W, H, { left: 30, right: 50, top: 20, bottom: 36 });
  const file = (name: string) => path.join(dir, name);
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-inpaint-'));
    models = file('models');
    mkdirSync(models, { mode: 0o755 });
    model = (await importModel(await openModelStore(models), await writeTinyCheckpoint(dir, 'sd15'), { kind: 'checkpoints' })).name;
    writeFileSync(file('input.png'), encodePng(picture.rgb, W, H));
    writeFileSync(file('mask.png'), greyPng(mask));
    writeFileSync(file('small-mask.png'), greyPng(rectangleMask(W - 8, H, { left: 1, right: 9, top: 1, bottom: 9 })));
    writeFileSync(file('empty-mask.png'), greyPng(rectangleMask(W, H, { left: 0, right: 0, top: 0, bottom: 0 })));
    writeFileSync(file('notes.txt'), 'not an image');
    writeFileSync(file('huge.png'), hugePng());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base = (out: string) => ['generate', 'a red ball', '--models', models, '--model', model, '--steps', '2', '--seed', '5', '--input', file('input.png'), '--out', out];

  it('inpaints the masked area at the input size and keeps pixels outside the soft mask bit for bit', async () => {
    const r = await run([...base(file('out-inpaint')), '--mask', file('mask.png'), '--inpaint-mode', 'detail']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /"label":"\[1\/1\] sampling"/);
    const image = decodePng(new Uint8Array(readFileSync(savedPath(r.out))));
    assert.equal(image.width, W);
    assert.equal(image.height, H);
    for (const p of pixelsFarFrom(mask, SOFT_MASK_REACH - 1)) assert.deepEqual([...image.rgb.subarray(p * 3, p * 3 + 3)], [...picture.rgb.subarray(p * 3, p * 3 + 3)]);
    assert.notDeepEqual(image.rgb, picture.rgb);
  });

  it('outpaints the chosen sides by the given size and keeps the original region', async () => {
    const r = await run([...base(file('out-outpaint')), '--outpaint', 'right,bottom=8px', '--outpaint-size', '25%']);
    assert.equal(r.code, 0, r.err);
    const image = decodePng(new Uint8Array(readFileSync(savedPath(r.out))));
    assert.equal(image.width, W + Math.trunc(W * 0.25));
    assert.equal(image.height, H + 8);
    for (let y = 0; y < H - SOFT_MASK_REACH; y++) {
      for (let x = 0; x < W - SOFT_MASK_REACH; x++) {
        assert.deepEqual([...image.rgb.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3)], [...picture.rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)]);
      }
    }
  });

  const refusals: [string, string[], RegExp][] = [
    ['a mask of another size', ['--mask', 'small-mask.png'], /--mask: inpaint\.mask is 80x72; it must be the input image's size, 88x72/],
    ['an empty mask', ['--mask', 'empty-mask.png'], /--mask: inpaint\.mask is empty/],
    ['a mask erased by erosion', ['--mask', 'mask.png', '--mask-erode', '12'], /--mask: inpaint\.mask is empty/],
    ['a mask that is not an image', ['--mask', 'notes.txt'], /--mask .*notes\.txt: not a PNG, JPEG or WebP file/],
    ['a decompression bomb mask', ['--mask', 'huge.png'], /--mask .*huge\.png: .*too-large/],
    ['an unknown mode', ['--mask', 'mask.png', '--inpaint-mode', 'paint'], /--inpaint-mode: unknown mode "paint"/],
    ['the v2.6 engine on SD 1.5', ['--mask', 'mask.png', '--inpaint-engine', 'fooocus-v2.6'], /--inpaint-engine: .*SDXL/],
    ['a strength out of range', ['--mask', 'mask.png', '--inpaint-strength', '1.5'], /--inpaint-strength: inpaint\.strength must be a number in 0\.01\.\.1/],
    ['a bad outpaint size', ['--outpaint', 'left', '--outpaint-size', '30'], /--outpaint-size: give a size as 30% or 128px/],
    ['an unknown side', ['--outpaint', 'up'], /--outpaint: unknown side "up"/],
    ['outpaint past the size limit', ['--outpaint', 'left=2048px,right=2048px'], /--outpaint: inpaint\.outpaint makes a 4184x72 image/],
    ['--size with a mask', ['--mask', 'mask.png', '--size', '64x64'], /--size: an inpaint or outpaint result has the input image's size/],
  ];
  for (const [what, args, pattern] of refusals) {
    it(`refuses ${what} with exit 2, naming the option, and writes nothing`, async () => {
      const out = file(`out-refused-${what.replace(/\W+/g, '-')}`);
      const r = await run([...base(out), ...args.map((a) => (a.endsWith('.png') || a.endsWith('.txt') ? file(a) : a))]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, pattern);
      assert.equal(existsSync(out), false, 'no outputs folder');
    });
  }

  it('refuses an engine the checkpoint cannot run at submit, from its header, before the outputs folder is made', async () => {
    const out = file('out-refused-engine');
    const r = await run([...base(out), '--mask', file('mask.png'), '--inpaint-engine', 'inpaint-checkpoint']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--inpaint-engine: inpaint-checkpoint needs a 9-channel inpaint checkpoint; .* takes 4 channels/);
    assert.equal(existsSync(out), false, 'no outputs folder');
  });

  it('refuses --mask without --input', async () => {
    const r = await run(['generate', 'x', '--models', models, '--model', model, '--mask', file('mask.png')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--mask: give the image to change with --input IMG/);
  });
});
