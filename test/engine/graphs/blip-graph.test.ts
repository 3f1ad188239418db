import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BlipLayoutError, detectBlipLayout, type BlipConfig } from '../../../src/engine/describe/blip-layout.ts';
import { buildBlipImageMemoryGraph, buildBlipTextStepGraph, memoryNames, pastNames, presentNames } from '../../../src/engine/graphs/blip-text-decoder.ts';
import { buildBlipVisionGraph } from '../../../src/engine/graphs/blip-vision.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { encodeOnnxModel, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Int64Tensor, Tensor } from '../../../src/engine/tensor.ts';
import { TINY_BLIP, TINY_BLIP_IMAGE_TOKENS, TINY_BLIP_VOCABULARY, writeTinyBlip, type TinyBlipOptions } from '../../fixtures/blip-models.ts';
import { generateTinyVisionEncoder } from '../../fixtures/image-prompt-models.ts';
import { blipDecoderReference, blipVisionReference, type BlipReferenceConfig } from '../../reference/blip.ts';
import { weightSourceFromMap, type RefTensor, type WeightSource } from '../../reference/tensor.ts';
import { maxAbsDiff, sampleInput } from './graph-harness.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'blip-graph-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Loaded {
  header: SafetensorsHeader;
  cfg: BlipConfig;
  weights: WeightSource;
  ref: BlipReferenceConfig;
}

async function loadTiny(options: TinyBlipOptions, name: string): Promise<Loaded> {
  const header = await readSafetensorsHeader(await writeTinyBlip(dir, options, name));
  const cfg = detectBlipLayout(header, { headWidth: TINY_BLIP.headWidth });
  const map = new Map<string, RefTensor>();
  for (const [key, info] of header.tensors) map.set(key, { shape: info.shape, data: await readTensorAsFloat32(header, key) });
  const ref = { vision: TINY_BLIP.vision, text: TINY_BLIP.text, headWeightKey: cfg.text.headWeightKey };
  return { header, cfg, weights: weightSourceFromMap(map), ref };
}

async function runGraph(model: OnnxModel, header: SafetensorsHeader, feeds: Record<string, Tensor | Int64Tensor>): Promise<Record<string, Tensor>> {
  const session = await createModelSession(encodeOnnxModel(model), path.dirname(header.file), { threads: 2 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const ids64 = (ids: readonly number[]): Int64Tensor => ({ dims: [1, ids.length], data: BigInt64Array.from(ids.map(BigInt)) });

/** Row `t` of logits [1, T, V] as a [1, V] tensor. */
function logitsAt(all: RefTensor, t: number): RefTensor {
  const V = all.shape[2]!;
  return { shape: [1, V], data: all.data.slice(t * V, (t + 1) * V) };
}

test('layout is read from the shapes', async () => {
  const { cfg } = await loadTiny({}, 'layout.safetensors');
  assert.deepEqual(cfg.vision, { width: 32, layers: 2, heads: 2, patch: 4, imageSize: 16, tokens: TINY_BLIP_IMAGE_TOKENS, mlpWidth: 64 });
  assert.equal(cfg.text.vocabSize, TINY_BLIP_VOCABULARY.length + 2);
  assert.equal(cfg.text.layers, 2);
  assert.equal(cfg.text.heads, 2);
  assert.equal(cfg.text.headWeightKey, 'text_decoder.bert.embeddings.word_embeddings.weight');
});

test('the vision graph matches the reference ViT within 1e-4', async () => {
  const { header, cfg, weights, ref } = await loadTiny({}, 'vision.safetensors');
  const pixels = sampleInput([1, 3, 16, 16], 3);
  const out = await runGraph(buildBlipVisionGraph(header, cfg.vision), header, { pixel_values: { dims: [...pixels.shape], data: pixels.data } });
  const expected = blipVisionReference(weights, ref, pixels);
  const err = maxAbsDiff(out.image_embeds!, expected);
  assert.ok(err <= 1e-4, `max abs err ${err}`);
});

for (const storedHead of [false, true]) {
  test(`the decoder graphs match the reference decoder within 1e-4, whole and token by token (${storedHead ? 'stored' : 'tied'} LM head)`, async () => {
    const { header, cfg, weights, ref } = await loadTiny({ storedHead, seed: storedHead ? 22 : 21 }, `decoder-${storedHead}.safetensors`);
    const image = sampleInput([1, TINY_BLIP_IMAGE_TOKENS, TINY_BLIP.vision.width], 5);
    const dec = TINY_BLIP_VOCABULARY.length; // [DEC], appended after the vocabulary
    const ids = [dec, 5, 6, 7, 8, 13, 10, 11, 12];
    const expected = blipDecoderReference(weights, ref, ids, image);
    const memory = await runGraph(buildBlipImageMemoryGraph(header, cfg.text), header, { image_embeds: { dims: [...image.shape], data: image.data } });
    const session = await createModelSession(encodeOnnxModel(buildBlipTextStepGraph(header, cfg.text)), dir, { threads: 2 });
    try {
      const emptyPast: Record<string, Tensor> = {};
      for (let i = 0; i < cfg.text.layers; i++) {
        for (const name of Object.values(pastNames(i))) emptyPast[name] = { dims: [1, 0, cfg.text.width], data: new Float32Array(0) };
      }
      const cross: Record<string, Tensor> = {};
      for (let i = 0; i < cfg.text.layers; i++) for (const name of Object.values(memoryNames(i))) cross[name] = memory[name]!;
      // the whole sequence at once, no cache
      const whole = await session.run({ input_ids: ids64(ids), ...emptyPast, ...cross });
      const wholeErr = maxAbsDiff(whole.logits!, logitsAt(expected, ids.length - 1));
      assert.ok(wholeErr <= 1e-4, `whole sequence: max abs err ${wholeErr}`);
      // a 4-token prefix, then one token at a time with the cache
      let past = emptyPast;
      let start = 0;
      for (const end of [4, 5, 6, 7, 8, 9]) {
        const out = await session.run({ input_ids: ids64(ids.slice(start, end)), ...past, ...cross });
        const err = maxAbsDiff(out.logits!, logitsAt(expected, end - 1));
        assert.ok(err <= 1e-4, `after ${end} tokens: max abs err ${err}`);
        past = {};
        for (let i = 0; i < cfg.text.layers; i++) {
          past[pastNames(i).key] = out[presentNames(i).key]!;
          past[pastNames(i).value] = out[presentNames(i).value]!;
          assert.deepEqual(out[presentNames(i).key]!.dims, [1, end, cfg.text.width]);
        }
        start = end;
      }
    } finally {
      await session.release();
    }
  });
}

test('wrong-shape, incomplete and other-family files are refused naming the file', async () => {
  const refuse = async (options: TinyBlipOptions, name: string, pattern: RegExp): Promise<void> => {
    const header = await readSafetensorsHeader(await writeTinyBlip(dir, options, name));
    assert.throws(
      () => detectBlipLayout(header, { headWidth: TINY_BLIP.headWidth }),
      (error: unknown) => error instanceof BlipLayoutError && error.message.startsWith(`${name}: not a BLIP captioning model`) && pattern.test(error.message) && error.file === header.file,
    );
  };
  await refuse({ omit: 'vision_model.post_layernorm.weight' }, 'no-post-norm.safetensors', /"vision_model\.post_layernorm\.weight" is missing/);
  await refuse({ reshape: { key: 'vision_model.encoder.layers.1.self_attn.qkv.weight', shape: [64, 32] } }, 'bad-qkv.safetensors', /layers\.1\.self_attn\.qkv\.weight" has shape \[64,32\], expected \[96,32\]/);
  await refuse({ reshape: { key: 'text_decoder.bert.encoder.layer.0.crossattention.self.key.weight', shape: [32, 16] } }, 'bad-cross.safetensors', /crossattention\.self\.key\.weight" has shape \[32,16\], expected \[32,32\]/);
  await refuse({ omit: 'text_decoder.cls.predictions.bias' }, 'no-head-bias.safetensors', /decoder\.bias" is missing/);
  const clipFile = path.join(dir, 'clip-vision.safetensors');
  await writeSafetensors(clipFile, generateTinyVisionEncoder());
  const clip = await readSafetensorsHeader(clipFile);
  assert.throws(() => detectBlipLayout(clip), (error: unknown) => error instanceof BlipLayoutError && /^clip-vision\.safetensors: .*position_embedding" is missing/.test(error.message));
});
