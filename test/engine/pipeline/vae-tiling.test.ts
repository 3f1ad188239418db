import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildVaeDecoderGraph } from '../../../src/engine/graphs/vae.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { decodeLatent } from '../../../src/engine/pipeline/vae-codec.ts';
import { createModelSession, type ModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { fromRef, loadTinyFixture, sampleInput, type TinyFixture } from '../graphs/graph-harness.ts';

describe('tiled VAE decode (bounded memory for large images)', () => {
  let fx: TinyFixture;
  let vae: ModelSession;
  before(async () => {
    fx = await loadTinyFixture('sd15');
    vae = await createModelSession(encodeOnnxModel(buildVaeDecoderGraph(fx.header, fx.architecture.vae!)), path.dirname(fx.file), { threads: 2 });
  });
  after(async () => {
    await vae.release();
    fx.cleanup();
  });

  it('decodes in overlapping tiles once the latent is larger than the limit, and blends them without gaps', async () => {
    const latent = fromRef(sampleInput([1, 4, 24, 40], 5)); // a 320x192 image
    const tiles: number[] = [];
    const tiled = await decodeLatent(vae, latent, { maxArea: 16 * 16, tile: 16, overlap: 4, onTile: (done, total) => tiles.push(done, total) });
    const whole = await decodeLatent(vae, latent, { maxArea: 1e9 });
    assert.equal(tiled.width, 320);
    assert.equal(tiled.height, 192);
    assert.deepEqual(tiles.slice(-2), [6, 6], 'a 24x40 latent in 16-wide tiles overlapping by 4 needs 2 x 3 tiles');
    // Tiles see less context than the whole decode (GroupNorm statistics, mid-block attention), so pixels differ;
    // what must hold is that every pixel was written and the result stays close to the whole decode on average.
    let diff = 0;
    for (let i = 0; i < whole.rgb.length; i++) diff += Math.abs(tiled.rgb[i]! - whole.rgb[i]!);
    assert.ok(diff / whole.rgb.length < 40, `mean difference ${diff / whole.rgb.length}`);
    const again = await decodeLatent(vae, latent, { maxArea: 16 * 16, tile: 16, overlap: 4 });
    assert.deepEqual(again.rgb, tiled.rgb, 'deterministic');
  });

  it('refuses a decoder whose output is not 8x the latent', async () => {
    const fake = { run: async () => ({ image: { dims: [1, 3, 16, 16], data: new Float32Array(3 * 256) } }) } as unknown as ModelSession;
    await assert.rejects(decodeLatent(fake, fromRef(sampleInput([1, 4, 4, 4]))), /only 8x VAEs are supported/);
  });
});
