import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { CheckpointKeyError } from '../../../src/engine/onnx/graph-builder.ts';
import { loadUpscaler, type LoadedUpscaler } from '../../../src/engine/upscale/load-upscaler.ts';
import { detectUpscalerLayout, UpscalerLayoutError } from '../../../src/engine/upscale/upscaler-layout.ts';
import { writeTinyRrdb, writeTinySrvgg, type RrdbDialect } from '../../fixtures/upscalers.ts';
import { referenceRrdb, referenceSrvgg } from '../../reference/upscaler.ts';
import { maxAbsDiff } from '../graphs/graph-harness.ts';
import type { RefTensor } from '../../reference/tensor.ts';

/** A smooth test image in 0..1, [1, 3, h, w]. */
function testImage(h: number, w: number, seed = 1): RefTensor {
  const data = new Float32Array(3 * h * w);
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + 0.45 * Math.sin((i + 1) * 0.37 + seed * 1.3);
  return { shape: [1, 3, h, w], data };
}

async function runOnce(upscaler: LoadedUpscaler, x: RefTensor) {
  return (await upscaler.session.run({ image: { dims: x.shape, data: x.data } })).upscaled!;
}

describe('upscaler graphs match the reference forward pass (max abs err <= 1e-4)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-upscaler-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const dialect of ['esrgan-sequential', 'esrgan', 'basicsr', 'fooocus'] as RrdbDialect[]) {
    it(`RRDBNet x4, ${dialect} keys: layout read from the shapes, output equal to the reference`, async () => {
      const fx = await writeTinyRrdb(dir, { dialect, blocks: 2, features: 8, growth: 4, upsamples: 2 });
      const header = await readSafetensorsHeader(fx.file);
      const layout = detectUpscalerLayout(header);
      assert.equal(layout.kind, 'rrdb');
      assert.deepEqual(
        layout.kind === 'rrdb' ? { blocks: layout.blocks, features: layout.features, growth: layout.growth, scale: layout.scale, unshuffle: layout.unshuffle } : null,
        { blocks: 2, features: 8, growth: 4, scale: 4, unshuffle: 1 },
      );
      const upscaler = await loadUpscaler(header, { runtime: { threads: 2 } });
      try {
        const x = testImage(6, 10);
        const err = maxAbsDiff(await runOnce(upscaler, x), referenceRrdb(fx.weights, x, { blocks: 2, upsamples: 2, unshuffle: 1 }));
        assert.ok(err <= 1e-4, `max abs err ${err}`);
      } finally {
        await upscaler.release();
      }
    });
  }

  it('Real-ESRGAN x2 (pixel-unshuffled input, params_ema wrapper kept by a converted pickle) is a 2x model', async () => {
    const fx = await writeTinyRrdb(dir, { dialect: 'basicsr', blocks: 1, upsamples: 2, unshuffle: 2, wrap: 'params_ema.' }, 'x2.safetensors');
    const upscaler = await loadUpscaler(await readSafetensorsHeader(fx.file), { runtime: { threads: 2 } });
    try {
      assert.equal(upscaler.scale, 2);
      const x = testImage(8, 6, 3);
      const out = await runOnce(upscaler, x);
      assert.deepEqual(out.dims, [1, 3, 16, 12]);
      const err = maxAbsDiff(out, referenceRrdb(fx.weights, x, { blocks: 1, upsamples: 2, unshuffle: 2 }));
      assert.ok(err <= 1e-4, `max abs err ${err}`);
    } finally {
      await upscaler.release();
    }
  });

  it('RRDBNet x2 (one upsampling conv) in the ESRGAN sequential keys puts the last convs at model.5 and model.7', async () => {
    const fx = await writeTinyRrdb(dir, { dialect: 'esrgan-sequential', blocks: 1, upsamples: 1 }, 'seq-x2.safetensors');
    const header = await readSafetensorsHeader(fx.file);
    assert.ok(header.tensors.has('model.7.weight') && header.tensors.has('model.5.weight'));
    const upscaler = await loadUpscaler(header, { runtime: { threads: 2 } });
    try {
      assert.equal(upscaler.scale, 2);
      const x = testImage(5, 7, 2);
      const err = maxAbsDiff(await runOnce(upscaler, x), referenceRrdb(fx.weights, x, { blocks: 1, upsamples: 1, unshuffle: 1 }));
      assert.ok(err <= 1e-4, `max abs err ${err}`);
    } finally {
      await upscaler.release();
    }
  });

  it('SRVGGNetCompact x4: PReLU body, pixel shuffle and the nearest-upsampled input', async () => {
    const fx = await writeTinySrvgg(dir, { convs: 3, features: 8, scale: 4 });
    const header = await readSafetensorsHeader(fx.file);
    const layout = detectUpscalerLayout(header);
    assert.deepEqual(layout, { kind: 'srvgg', prefix: 'body.', convs: 3, features: 8, channels: 3, scale: 4 });
    const upscaler = await loadUpscaler(header, { runtime: { threads: 2 } });
    try {
      const x = testImage(7, 5, 4);
      const err = maxAbsDiff(await runOnce(upscaler, x), referenceSrvgg(fx.weights, x, { convs: 3, scale: 4 }));
      assert.ok(err <= 1e-4, `max abs err ${err}`);
    } finally {
      await upscaler.release();
    }
  });
});

describe('upscaler files with a wrong layout are refused, naming the file and the key', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-upscaler-bad-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a file that is no upscaler (a checkpoint-like key set)', async () => {
    const fx = await writeTinySrvgg(dir, {}, 'plain.safetensors');
    const header = await readSafetensorsHeader(fx.file);
    header.tensors.delete('body.1.weight');
    assert.throws(() => detectUpscalerLayout(header), (err: unknown) => err instanceof UpscalerLayoutError && /plain\.safetensors: not a supported upscaler/.test(err.message) && /"model\.0\.weight"/.test(err.message));
  });

  it('a missing trunk conv is named', async () => {
    const fx = await writeTinyRrdb(dir, { dialect: 'basicsr', blocks: 1, omit: 'conv_body.weight' }, 'no-trunk.safetensors');
    const header = await readSafetensorsHeader(fx.file);
    assert.throws(() => detectUpscalerLayout(header), /no-trunk\.safetensors: .*"conv_body\.weight" \(the trunk conv after the 1 blocks\) is missing/);
  });

  it('a dense conv of the wrong shape is named with its shape', async () => {
    const fx = await writeTinyRrdb(dir, { dialect: 'esrgan', blocks: 1, growth: 4 }, 'odd.safetensors');
    const header = await readSafetensorsHeader(fx.file);
    const info = header.tensors.get('RRDB_trunk.0.RDB2.conv3.weight')!;
    header.tensors.set(info.name, { ...info, shape: [4, 15, 3, 3] });
    await assert.rejects(loadUpscaler(header), (err: unknown) => err instanceof CheckpointKeyError && /odd\.safetensors: tensor "RRDB_trunk\.0\.RDB2\.conv3\.weight" has shape \[4,15,3,3\], expected \[4,16,3,3\]/.test(err.message));
  });

  it('channels that match neither equal nor a pixel unshuffle are refused', async () => {
    const fx = await writeTinyRrdb(dir, { dialect: 'basicsr', blocks: 1 }, 'channels.safetensors');
    const header = await readSafetensorsHeader(fx.file);
    const info = header.tensors.get('conv_first.weight')!;
    header.tensors.set(info.name, { ...info, shape: [8, 5, 3, 3] });
    assert.throws(() => detectUpscalerLayout(header), /channels\.safetensors: .*takes 5 channels/);
  });
});
