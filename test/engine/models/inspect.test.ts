import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { inspectCheckpoint, inspectHeader, UnsupportedCheckpointError } from '../../../src/engine/index.ts';
import { countParameters, listClipTextTensors, listUnetTensors, listVaeTensors, listCheckpointTensors, type TensorSpec } from '../../../src/engine/models/checkpoint-layout.ts';
import { expectedTinyArchitecture, listTinyCheckpointTensors, writeTinyCheckpoint, type TinyCheckpointOptions, type TinyFamily } from '../../fixtures/checkpoints.ts';
import { referenceArchitecture, RELEASED_EXTRAS } from '../../fixtures/reference-architectures.ts';
import { clipTextWeightShapes, unetWeightShapes, vaeWeightShapes } from '../../reference/weight-shapes.ts';

/** A header for a checkpoint with these tensors, without writing (or allocating) any data. */
function headerOf(specs: readonly TensorSpec[], dtype: SafetensorsDtype = 'F16', file = 'memory.safetensors'): SafetensorsHeader {
  const tensors: SafetensorsHeader['tensors'] = new Map();
  let offset = 0;
  for (const s of specs) {
    const d = s.init.kind === 'position-ids' ? 'I64' : dtype;
    const bytes = s.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[d];
    tensors.set(s.name, { name: s.name, dtype: d, shape: s.shape, begin: offset, end: offset + bytes });
    offset += bytes;
  }
  return { file, fileSize: 8 + offset, dataOffset: 8, metadata: {}, tensors };
}

function without(specs: readonly TensorSpec[], name: string): TensorSpec[] {
  assert.ok(specs.some((s) => s.name === name), `fixture has ${name}`);
  return specs.filter((s) => s.name !== name);
}

function assertUnsupported(fn: () => unknown, mentions: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UnsupportedCheckpointError, String(err));
    assert.ok(err.reason.includes(mentions), `"${err.reason}" names ${mentions}`);
    assert.equal(err.message.includes('\n'), false);
    return true;
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-inspect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cases: [TinyFamily, TinyCheckpointOptions][] = [
  ['sd15', {}],
  ['sd15', { inpaint: true }],
  ['sd15', { dtype: 'F16', vaeLinearAttention: true }],
  ['sdxl', {}],
  ['sdxl', { inpaint: true, dtype: 'F16' }],
  ['sdxl-refiner', {}],
  ['sdxl-refiner', { dtype: 'F16' }],
];

describe('inspectCheckpoint on tiny checkpoints', () => {
  for (const [family, options] of cases) {
    it(`${family} ${JSON.stringify(options)}: architecture, counts, dtypes and SHA-256`, async () => {
      const file = await writeTinyCheckpoint(dir, family, options);
      let lastProgress = 0;
      const r = await inspectCheckpoint(file, { onHashProgress: (done) => (lastProgress = done) });
      const expected = expectedTinyArchitecture(family, options);
      assert.deepEqual(r.architecture, expected);
      assert.equal(r.architecture.inpaint, options.inpaint === true);

      const bytes = readFileSync(file);
      assert.equal(r.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(lastProgress, bytes.length);
      assert.equal(r.fileSize, bytes.length);

      const specs = listTinyCheckpointTensors(family, options);
      assert.equal(r.tensorCount, specs.length);
      const floats = specs.filter((s) => s.init.kind !== 'position-ids').length;
      assert.deepEqual(r.dtypes, { [options.dtype ?? 'F32']: floats, ...(floats < specs.length ? { I64: specs.length - floats } : {}) });

      const counts = r.parameterCounts;
      assert.equal(counts.unet, countParameters(listUnetTensors(expected.unet!)));
      assert.deepEqual(counts.textEncoders, expected.textEncoders.map((t) => countParameters(listClipTextTensors(t, RELEASED_EXTRAS))));
      assert.equal(counts.vae, countParameters(listVaeTensors(expected.vae!)));
      assert.equal(counts.other, 0);
      assert.equal(counts.total, counts.unet + counts.textEncoders.reduce((a, b) => a + b, 0) + counts.vae + counts.other);
      assert.equal(r.metadata['fooocus-ts.fixture']?.startsWith(`tiny-${family}`), true);
    });
  }

  it('tolerates extra keys and counts them as other', () => {
    const specs: TensorSpec[] = [...listTinyCheckpointTensors('sd15'), { name: 'model_ema.decay', shape: [], init: { kind: 'constant', value: 0.9999 } }];
    const r = inspectHeader(headerOf(specs));
    assert.deepEqual(r.architecture, expectedTinyArchitecture('sd15'));
    assert.equal(r.parameterCounts.other, 1);
  });
});

describe('inspectHeader on full-size layouts (no data written)', () => {
  for (const family of ['sd15', 'sdxl', 'sdxl-refiner'] as const) {
    it(`${family}: recovers the published architecture`, () => {
      const arch = referenceArchitecture(family);
      assert.deepEqual(inspectHeader(headerOf(listCheckpointTensors(arch, RELEASED_EXTRAS))).architecture, arch);
    });
  }

  it('a UNet-only file is recognised from the UNet (ADM, context width)', () => {
    for (const family of ['sd15', 'sdxl', 'sdxl-refiner'] as const) {
      const arch = referenceArchitecture(family);
      const r = inspectHeader(headerOf(listUnetTensors(arch.unet!)));
      assert.deepEqual(r.architecture, { ...arch, textEncoders: [], vae: null });
      assert.deepEqual(r.parameterCounts.textEncoders, []);
      assert.equal(r.parameterCounts.vae, 0);
    }
  });
});

describe('rejections name the tensor', () => {
  const sdxl = listTinyCheckpointTensors('sdxl');
  for (const name of [
    'model.diffusion_model.out.2.weight',
    'model.diffusion_model.input_blocks.0.0.weight',
    'model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight',
    'model.diffusion_model.output_blocks.1.2.conv.weight',
    'model.diffusion_model.label_emb.0.0.weight',
    'conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight',
    'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight',
    'first_stage_model.decoder.up.0.block.1.conv2.weight',
    'first_stage_model.encoder.mid.attn_1.k.weight',
  ]) {
    it(`missing ${name}`, () => assertUnsupported(() => inspectHeader(headerOf(without(sdxl, name))), `"${name}"`));
  }

  it('a hole in the layer numbering is the missing key, not a shallower model', () => {
    const name = 'conditioner.embedders.1.model.transformer.resblocks.1.mlp.c_fc.weight';
    assertUnsupported(() => inspectHeader(headerOf(without(sdxl, name))), `"${name}"`);
  });

  it('a mis-shaped tensor', () => {
    const name = 'model.diffusion_model.input_blocks.5.1.transformer_blocks.1.attn2.to_v.weight';
    const specs = sdxl.map((s) => (s.name === name ? { ...s, shape: [64, 96] } : s));
    assertUnsupported(() => inspectHeader(headerOf(specs)), `"${name}" has shape [64, 96], expected [64, 128]`);
  });

  it('text encoders of no known family, VAE-only and empty files', () => {
    const mixed = [...listTinyCheckpointTensors('sd15'), ...listTinyCheckpointTensors('sdxl').filter((s) => s.name.startsWith('conditioner.'))];
    assertUnsupported(() => inspectHeader(headerOf(mixed)), 'match no known model family');
    assertUnsupported(() => inspectHeader(headerOf(listVaeTensors(expectedTinyArchitecture('sd15').vae!))), 'only a VAE');
    assertUnsupported(() => inspectHeader(headerOf([{ name: 'x', shape: [1], init: { kind: 'bias' } }])), 'not a Stable Diffusion checkpoint');
  });

  it('an ADM input in an SD1.5 checkpoint', () => {
    const sd15 = expectedTinyArchitecture('sd15');
    const specs = listCheckpointTensors({ ...sd15, unet: { ...sd15.unet!, admInChannels: 32 } }, RELEASED_EXTRAS);
    assertUnsupported(() => inspectHeader(headerOf(specs)), 'label_emb.0.0.weight');
  });
});

describe('checkpoint layout', () => {
  it('full-size layouts have the published parameter counts', () => {
    // SD1.5 UNet 859,520,964: diffusers `ModelMixin.num_parameters` docstring (runwayml/stable-diffusion-v1-5 unet).
    // CLIP-L text 123,060,480 and SDXL UNet 2,567,463,684: diffusers' text_encoder / SDXL unet parameter counts
    // (also logged by SDXL DreamBooth training scripts). VAE 83,653,863 in 248 tensors: AutoencoderKL of SD1.5/SDXL.
    // bigG 694,659,841 = diffusers text_encoder_2 with projection (694,659,840; CLIP-L + bigG = 817,720,320 as
    // published) + the `logit_scale` scalar that the SGM checkpoint keeps.
    const sd15 = referenceArchitecture('sd15');
    const sdxl = referenceArchitecture('sdxl');
    assert.equal(countParameters(listUnetTensors(sd15.unet!)), 859_520_964);
    assert.equal(listUnetTensors(sd15.unet!).length, 686);
    assert.equal(countParameters(listClipTextTensors(sd15.textEncoders[0]!, RELEASED_EXTRAS)), 123_060_480);
    assert.equal(countParameters(listVaeTensors(sd15.vae!)), 83_653_863);
    assert.equal(listVaeTensors(sd15.vae!).length, 248);
    assert.equal(countParameters(listUnetTensors(sdxl.unet!)), 2_567_463_684);
    assert.equal(listUnetTensors(sdxl.unet!).length, 1680);
    assert.equal(countParameters(listClipTextTensors(sdxl.textEncoders[1]!, RELEASED_EXTRAS)), 694_659_841);
    const both = sdxl.textEncoders.map((t) => countParameters(listClipTextTensors(t, { clipPositionIds: false, openClipLogitScale: false })));
    assert.equal(both[0]! + both[1]!, 817_720_320);
  });

  it('agrees with the reference implementations\' independent key lists; the only extras are non-weight keys', () => {
    for (const [family, options] of cases) {
      const arch = expectedTinyArchitecture(family, options);
      const reference = new Map([
        ...unetWeightShapes(arch.unet!),
        ...arch.textEncoders.flatMap((t) => [...clipTextWeightShapes(t)]),
        ...vaeWeightShapes(arch.vae!),
      ]);
      const layout = new Map(listTinyCheckpointTensors(family, options).map((s) => [s.name, s.shape]));
      for (const [name, shape] of reference) assert.deepEqual(layout.get(name), shape, name);
      const extras = [...layout.keys()].filter((n) => !reference.has(n));
      assert.ok(extras.every((n) => n.endsWith('.position_ids') || n.endsWith('.logit_scale')), extras.join(', '));
    }
  });
});
