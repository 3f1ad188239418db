import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { GroundingDinoLayoutError } from '../../../src/engine/detect/grounding-dino-layout.ts';
import { groundingInputSize, preprocessGroundingImage, resampleBilinear } from '../../../src/engine/detect/grounding-dino-image.ts';
import type { GroundingTokenizer } from '../../../src/engine/detect/grounding-dino-text.ts';
import { loadGroundingDino } from '../../../src/engine/detect/grounding-dino.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { groundingDinoTensors, TINY_GROUNDING_DINO } from '../../fixtures/grounding-dino.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gdino-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A vocabulary small enough for the tiny BERT (40 entries): frame tokens, delimiters and a few words. */
const WORDS = ['[PAD]', '[CLS]', '[SEP]', '.', '?', 'face', 'hand', 'cat', 'dog'];
const tokenizer: GroundingTokenizer = {
  encode: (text) => text.replaceAll('.', ' . ').split(/\s+/).filter((w) => w !== '').map((w) => WORDS.indexOf(w)),
  decode: (ids) => ids.map((id) => WORDS[id]!).filter((t) => !t.startsWith('[')).join(' ').replaceAll(' .', '.'),
  idOf: (token) => (WORDS.includes(token) ? WORDS.indexOf(token) : undefined),
};

describe('GroundingDINO image input', () => {
  it('resizes the shorter side to 800 unless the longer would pass 1333', () => {
    assert.deepEqual(groundingInputSize(1024, 1024), [800, 800]);
    assert.deepEqual(groundingInputSize(640, 480), [1066, 800]);
    assert.deepEqual(groundingInputSize(480, 640), [800, 1066]);
    assert.deepEqual(groundingInputSize(2000, 500), [1332, 333]);
    assert.deepEqual(groundingInputSize(1333, 800), [1333, 800]);
  });

  it("resamples with Pillow's bilinear filter (widened on a downscale) and normalizes with ImageNet statistics", () => {
    const row = { width: 4, height: 1, rgb: Uint8Array.from([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]) };
    // output 0: centre 1, support 2: source weights 0.75, 0.75, 0.25 over pixels 0..2 -> (75 + 50) / 1.75 = 71.4
    assert.equal(resampleBilinear(row, 2, 1).rgb[0], 71);
    const grey = { width: 8, height: 6, rgb: new Uint8Array(8 * 6 * 3).fill(128) };
    const t = preprocessGroundingImage(grey);
    assert.deepEqual(t.dims, [1, 3, 800, 1066]);
    assert.ok(Math.abs(t.data[0]! - (128 / 255 - 0.485) / 0.229) < 1e-6);
    assert.ok(Math.abs(t.data[2 * 800 * 1066]! - (128 / 255 - 0.406) / 0.225) < 1e-6);
  });
});

describe('GroundingDINO detector', () => {
  it('detects on an image: boxes in its pixels from the raw outputs, labelled by the tokens above the text threshold', async () => {
    const file = path.join(dir, 'grounding-dino.safetensors');
    await writeSafetensors(file, groundingDinoTensors({ ...TINY_GROUNDING_DINO, bert: { ...TINY_GROUNDING_DINO.bert, vocab: WORDS.length } }, 6));
    const detector = await loadGroundingDino(file, tokenizer, { threads: 2 });
    try {
      const image = { width: 60, height: 45, rgb: Uint8Array.from({ length: 60 * 45 * 3 }, (_, i) => (i * 37) % 256) };
      const raw = await detector.run(image, 'Face. Hand');
      assert.deepEqual(raw.ids, [1, 5, 3, 6, 3, 2]);
      assert.deepEqual(raw.logits.dims, [1, 12, 6]);
      const found = await detector.detect(image, 'Face. Hand', { boxThreshold: 0, textThreshold: 0 });
      assert.equal(found.length, 12);
      // With every threshold at 0, each box is one query, and every label names both phrases.
      for (const f of found) {
        assert.equal(f.label, 'face. hand.');
        const q = [...Array(12).keys()].find((k) => Math.abs(raw.boxes.data[k * 4]! * 60 - (f.box[0] + f.box[2]) / 2) < 1e-3)!;
        assert.notEqual(q, undefined);
        const [cx, cy, w, h] = Array.from(raw.boxes.data.subarray(q * 4, q * 4 + 4));
        const expected = [(cx! - w! / 2) * 60, (cy! - h! / 2) * 45, (cx! + w! / 2) * 60, (cy! + h! / 2) * 45];
        f.box.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-3, `${f.box} vs ${expected}`));
      }
      const none = await detector.detect(image, 'Face. Hand', { boxThreshold: 1 });
      assert.deepEqual(none, []);
    } finally {
      await detector.release();
    }
  });

  it('refuses a file of another family, naming it', async () => {
    const file = path.join(dir, 'u2net.safetensors');
    await writeSafetensors(file, [{ name: 'stage1.rebnconvin.conv_s1.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    await assert.rejects(loadGroundingDino(file, tokenizer), (err: unknown) => err instanceof GroundingDinoLayoutError && /u2net\.safetensors is not a GroundingDINO checkpoint/.test(err.message));
  });
});
