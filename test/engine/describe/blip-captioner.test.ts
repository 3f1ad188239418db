import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BlipCaptioner, CAPTION_PROMPT } from '../../../src/engine/describe/blip-captioner.ts';
import { preprocessBlipImage } from '../../../src/engine/describe/blip-image-preprocess.ts';
import { BlipLayoutError } from '../../../src/engine/describe/blip-layout.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { VocabularyFormatError, WordPieceTokenizer } from '../../../src/engine/text/word-piece.ts';
import { TINY_BLIP, TINY_BLIP_VOCABULARY, writeTinyBlip, writeTinyBlipVocabulary } from '../../fixtures/blip-models.ts';
import { blipDecoderReference, blipVisionReference } from '../../reference/blip.ts';
import { weightSourceFromMap, type RefTensor } from '../../reference/tensor.ts';

let dir: string;
let files: { model: string; vocabulary: string };
let captioner: BlipCaptioner;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'blip-captioner-'));
  files = { model: await writeTinyBlip(dir, { seed: 31 }), vocabulary: await writeTinyBlipVocabulary(dir) };
  captioner = await BlipCaptioner.load(files, { threads: 2 }, { headWidth: TINY_BLIP.headWidth });
});
after(async () => {
  await captioner.release();
  await rm(dir, { recursive: true, force: true });
});

function sampleImage(width: number, height: number, seed: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(Math.abs(Math.sin((i + 1) * 12.9898 + seed * 78.233)) * 255.999);
  return { width, height, rgb };
}

/** Greedy decoding with the reference decoder recomputing every position each step, and BLIP's min-length rule. */
async function referenceGreedyCaption(image: RgbImage, maxLength: number): Promise<string> {
  const header = await readSafetensorsHeader(files.model);
  const map = new Map<string, RefTensor>();
  for (const [key, info] of header.tensors) map.set(key, { shape: info.shape, data: await readTensorAsFloat32(header, key) });
  const w = weightSourceFromMap(map);
  const cfg = { vision: TINY_BLIP.vision, text: TINY_BLIP.text, headWeightKey: 'text_decoder.bert.embeddings.word_embeddings.weight' };
  const pixels = preprocessBlipImage(image, TINY_BLIP.vision.imageSize);
  const embeds = blipVisionReference(w, cfg, { shape: [...pixels.dims], data: pixels.data });
  const tokenizer = WordPieceTokenizer.fromVocabularyText(`${TINY_BLIP_VOCABULARY.join('\n')}\n`, 'vocab.txt');
  const sep = TINY_BLIP_VOCABULARY.indexOf('[SEP]');
  const ids = [TINY_BLIP_VOCABULARY.length, ...tokenizer.encode(CAPTION_PROMPT)];
  const prompt = ids.length;
  while (ids.length < maxLength) {
    const logits = blipDecoderReference(w, cfg, ids, embeds);
    const V = logits.shape[2]!;
    const row = logits.data.subarray((ids.length - 1) * V, ids.length * V);
    let best = -1;
    for (let v = 0; v < V; v++) if (!(v === sep && ids.length < 10) && (best < 0 || row[v]! > row[best]!)) best = v;
    if (best === sep) break;
    ids.push(best);
  }
  return tokenizer.decode(ids.slice(prompt).filter((id) => id < TINY_BLIP_VOCABULARY.length));
}

test('a greedy caption is the reference decoder\'s greedy caption, with or without the key/value cache', async () => {
  const image = sampleImage(40, 24, 1);
  const expected = await referenceGreedyCaption(image, 24);
  assert.ok(expected.length > 0);
  assert.equal(await captioner.caption(image, { maxLength: 24 }), expected);
  assert.equal(await captioner.caption(image, { maxLength: 24, recompute: true }), expected);
});

test('sampling is reproducible by seed and reports decode progress', async () => {
  const image = sampleImage(20, 20, 2);
  const steps: number[] = [];
  const first = await captioner.caption(image, { mode: 'sample', seed: 7, maxLength: 30, onProgress: (p) => p.phase === 'decode' && steps.push(p.step) });
  assert.equal(await captioner.caption(image, { mode: 'sample', seed: 7, maxLength: 30 }), first);
  const others = await Promise.all([8, 9, 10, 11].map((seed) => captioner.caption(image, { mode: 'sample', seed, maxLength: 30 })));
  assert.ok(others.some((caption) => caption !== first), 'different seeds give different captions');
  assert.deepEqual(steps, steps.map((_, i) => i + 1));
  assert.ok(steps.length <= 30 - 4);
});

test('a cancelled caption stops before the next model run', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(captioner.caption(sampleImage(8, 8, 3), { signal: controller.signal }), /cancel/i);
});

test('load refuses a vocabulary that does not fit the model and a file of another family, naming the file', async () => {
  const small = path.join(dir, 'wide-vocab.txt');
  await writeFile(small, `${[...TINY_BLIP_VOCABULARY, 'x', 'y', 'z'].join('\n')}\n`);
  await assert.rejects(
    BlipCaptioner.load({ ...files, vocabulary: small }, { threads: 1 }, { headWidth: TINY_BLIP.headWidth }),
    (error: unknown) => error instanceof VocabularyFormatError && /^wide-vocab\.txt: .*do not fit the 22 token ids of blip-tiny\.safetensors/.test(error.message),
  );
  const broken = await writeTinyBlip(dir, { omit: 'text_decoder.cls.predictions.transform.dense.weight' }, 'broken.safetensors');
  await assert.rejects(
    BlipCaptioner.load({ ...files, model: broken }, { threads: 1 }, { headWidth: TINY_BLIP.headWidth }),
    (error: unknown) => error instanceof BlipLayoutError && /^broken\.safetensors: .*transform\.dense\.weight" is missing/.test(error.message),
  );
});
