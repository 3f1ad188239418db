/**
 * Enhance tabs with a text detection prompt ("face") through the app, on the tiny SD 1.5 checkpoint and tiny
 * GroundingDINO + SAM files imported into a real store: the submit refuses such a tab until all three files are
 * installed (naming the tab's detectionPrompt, the missing files and the import command); with them, a tab whose
 * thresholds let boxes through repaints SAM's mask and leaves every pixel outside it as it was, and a tab whose box
 * threshold nothing can pass (1: scores are sigmoids, below 1) is skipped and says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveEnhanceChoice } from '../../../src/app/enhance/enhance-choice.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { GroundingDino, loadSegmenter, prepareInpaintMask, TextRegionDetector, WordPieceTokenizer, type RegionDetection } from '../../../src/engine/index.ts';
import { writeTinyGroundingDino } from '../../fixtures/grounding-dino.ts';
import { writeSamModel } from '../../fixtures/sam-models.ts';
import { assertRepaintedOnly, enhanceContext as context, listedModel as listed, openEnhanceBench, picture, PICTURE_HEIGHT as H, PICTURE_WIDTH as W, readSavedEnhanceRecord, refusal, runEnhance, type EnhanceBench } from './enhance-harness.ts';

const ALL_FILES = [listed('detection', 'grounding-dino-tiny.safetensors'), listed('detection', 'grounding-dino-tiny-vocab.txt'), listed('sam', 'sam-vit-base.safetensors')];

describe('Enhance text-prompted tabs at submit', () => {
  it('refuses a "face" tab until GroundingDINO, its vocabulary and SAM are all installed, naming what is missing and how to add it', async () => {
    const none = /needs GroundingDINO and SAM; missing from the model store: detection\/grounding-dino-tiny\.safetensors, detection\/grounding-dino-tiny-vocab\.txt, sam\/sam-vit-base\.safetensors\. Add each with `npm run fooocus -- models import <file> --kind detection --name grounding-dino-tiny\.safetensors`/;
    await assert.rejects(resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'face' }] }, context([listed('detection', 'u2net.onnx')])), refusal('enhance.tabs[0].detectionPrompt', none));
    const onlySam = /missing from the model store: sam\/sam-vit-base\.safetensors\. Add it with `npm run fooocus -- models import <file> --kind sam --name sam-vit-base\.safetensors` \(facebook\/sam-vit-base's model\.safetensors\)$/;
    await assert.rejects(resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'person' }, { detectionPrompt: 'hand' }] }, context([listed('detection', 'u2net.onnx'), ...ALL_FILES.slice(0, 2)])), refusal('enhance.tabs[1].detectionPrompt', onlySam));
  });

  it('accepts it with the three files (no foreground-mask model needed) and refuses a maskModel on it', async () => {
    const resolved = await resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'face', boxThreshold: 0.4 }] }, context(ALL_FILES));
    assert.deepEqual(resolved.tabs[0], { detectionPrompt: 'face', mode: 'default', strength: 1, respectiveField: 0.618, boxThreshold: 0.4, textThreshold: 0.25, maxDetections: 0 });
    await assert.rejects(resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'face', maskModel: 'u2net.onnx' }] }, context([...ALL_FILES, listed('detection', 'u2net.onnx')])), refusal('enhance.tabs[0].maskModel', /finds only "person"/));
  });
});

describe('Enhance with GroundingDINO and SAM through the image generator (tiny files, real store)', () => {
  let bench: EnhanceBench<{ model: string; vocabulary: string; sam: string }>;
  // Random SAM weights speckle the mask over the whole image; eroding it leaves the dense part, so pixels past
  // the soft mask's reach exist to compare.
  const ERODE = 8;

  before(async () => {
    bench = await openEnhanceBench('text', async (folder, store) => {
      const dino = await writeTinyGroundingDino(folder);
      const files = { ...dino, sam: await writeSamModel(folder, undefined, 'sam-vit-base.safetensors') };
      await importModel(store, dino.model, { kind: 'detection' });
      await importModel(store, dino.vocabulary, { kind: 'detection' });
      await importModel(store, files.sam, { kind: 'sam' });
      return files;
    });
  });
  after(() => bench.close());

  /** The region the tab finds, by the engine's detector built here from the same files. */
  async function detectDirectly(maxDetections: number): Promise<RegionDetection> {
    const { files } = bench;
    const boxes = await GroundingDino.load(files.model, await WordPieceTokenizer.fromFile(files.vocabulary), { threads: 1 });
    const detector = new TextRegionDetector('direct', boxes, await loadSegmenter(files.sam, { threads: 1 }));
    try {
      return await detector.detect(picture, { prompt: 'face', boxThreshold: 0, textThreshold: 0, maxDetections });
    } finally {
      await detector.release();
    }
  }

  it('repaints the mask SAM makes of the first box (eroded), keeps every pixel past its soft edge, and skips a tab no box can pass', async () => {
    const { request, bytes, image, progress } = await runEnhance(bench, {
      tabs: [{ detectionPrompt: 'face', prompt: 'a red robot', boxThreshold: 0, textThreshold: 0, maxDetections: 1, maskErode: ERODE }, { detectionPrompt: 'hand', boxThreshold: 1 }],
    });
    assert.equal(request.enhance!.tabs[0]!.maskModel, undefined);
    assert.deepEqual([image.width, image.height], [W, H]);

    const found = await detectDirectly(1);
    assert.equal(found.regions, 1);
    const repainted = prepareInpaintMask({ maskErode: ERODE, invertMask: false }, found.mask);
    assertRepaintedOnly(image, repainted, { minFar: 1000, minChanged: 50 });

    const messages = progress.flatMap((p) => (p.phase === 'enhance' ? [p.message] : []));
    assert.ok(messages.includes('Enhance 1/2: repainting "face" (1 region)'), messages.join(' | '));
    assert.ok(messages.includes('Enhance 2/2: no "hand" found, tab skipped'), messages.join(' | '));
    // Built once for both tabs: the detector is held between them.
    assert.equal(progress.filter((p) => p.phase === 'load' && p.model === 'grounding-dino-tiny.safetensors').length, 1);

    const record = await readSavedEnhanceRecord(bytes);
    assert.deepEqual(
      record?.tabs.map((t) => [t.detectionPrompt, t.regions, t.skipped]),
      [
        ['face', 1, false],
        ['hand', 0, true],
      ],
    );
  });
});
