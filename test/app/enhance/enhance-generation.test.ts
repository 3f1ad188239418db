/**
 * Enhance through the app on a tiny SD 1.5 checkpoint and the tiny foreground-mask model: the choice is checked at
 * submit (each refusal names its field), then the job finds each tab's region, skips a tab whose mask is empty
 * (and says so), repaints the rest through the inpaint, and saves one image whose metadata records the tabs.
 * Pixels the repaint's soft mask does not reach stay as they were, bit for bit.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCreativeData, type CreativeData } from '../../../src/app/creative/creative-data.ts';
import { resolveEnhanceChoice } from '../../../src/app/enhance/enhance-choice.ts';
import { createImageGenerator, prepareImageRequest } from '../../../src/app/generation/generate-images.ts';
import { planVaryUpscaleSize } from '../../../src/app/generation/vary-upscale-step.ts';
import { GenerationService, type ServiceProgress } from '../../../src/app/generation/generation-service.ts';
import { ImageRequestError, type EnhanceTab } from '../../../src/app/generation/image-request.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore, type ModelListing, type ModelStore } from '../../../src/app/models/model-store.ts';
import { ForegroundMaskModel, readImageMetadata } from '../../../src/engine/index.ts';
import { SOFT_MASK_REACH } from '../../../src/engine/inpaint/grey-mask.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { decodePng, encodePng } from '../../../src/engine/output/png.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { redSquarePicture, writeTinyForegroundModel } from '../../fixtures/foreground-models.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';
import { pixelsFarFrom } from '../../engine/inpaint/inpaint-harness.ts';

const listed = (kind: ModelListing['kind'], name: string): ModelListing => ({ kind, name, size: 1, sha256: '0'.repeat(64), source: 'local-import', verifiedAt: '', family: null, convertedFrom: null });
const withModel = [listed('detection', 'u2net.onnx')];
const context = (listing: ModelListing[] = withModel) => ({ family: 'sd15' as const, listing, size: { width: 512, height: 512 } });
const tab = (extra: Partial<EnhanceTab> = {}): EnhanceTab => ({ detectionPrompt: 'person', ...extra });

function refusal(field: string, pattern?: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof ImageRequestError && err.field === field && (pattern === undefined || pattern.test(err.message));
}

describe('Enhance choices at submit', () => {
  it("fills in Fooocus's defaults: the inpaint's Default mode, thresholds 0.3 / 0.25, no detection cap, the installed model", async () => {
    const resolved = await resolveEnhanceChoice({ tabs: [tab(), tab({ detectionPrompt: 'background', mode: 'detail' })] }, context());
    assert.deepEqual(resolved.tabs[0], { detectionPrompt: 'person', maskModel: 'u2net.onnx', mode: 'default', strength: 1, respectiveField: 0.618, boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 });
    assert.equal(resolved.tabs[1]!.strength, 0.5);
    assert.equal(resolved.tabs[1]!.respectiveField, 0);
    assert.equal(resolved.varyUpscale, undefined);
  });

  it('refuses bad tabs naming the field as the client sent it', async () => {
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab(), tab({ strength: 0 })] }, context()), refusal('enhance.tabs[1].strength', /^enhance\.tabs\[1\]\.strength must be a number in 0\.01\.\.1/));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab({ maskErode: 65 })] }, context()), refusal('enhance.tabs[0].maskErode'));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab({ boxThreshold: 1.5 })] }, context()), refusal('enhance.tabs[0].boxThreshold'));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab({ maxDetections: 2.5 })] }, context()), refusal('enhance.tabs[0].maxDetections'));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab({ detectionPrompt: ' ' })] }, context()), refusal('enhance.tabs[0].detectionPrompt'));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab(), tab(), tab(), tab()] }, context()), refusal('enhance.tabs', /0 to 3 tabs, got 4/));
    await assert.rejects(resolveEnhanceChoice({ tabs: [] }, context()), refusal('enhance.tabs'));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab({ engine: 'fooocus-v2.6' })] }, context()), refusal('enhance.tabs[0].engine', /SDXL/));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab()], varyUpscaleOrder: 'after' }, context()), refusal('enhance.varyUpscaleOrder'));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab()], varyUpscale: { mode: 'vary-wild' as 'vary-subtle' } }, context()), refusal('enhance.varyUpscale.mode'));
  });

  it('refuses a region nothing installed can find, saying what would', async () => {
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab({ detectionPrompt: 'face' })] }, context()), refusal('enhance.tabs[0].detectionPrompt', /GroundingDINO and SAM/));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab()] }, context([])), refusal('enhance.tabs[0].maskModel', /models import <file> --kind detection/));
    await assert.rejects(resolveEnhanceChoice({ tabs: [tab({ maskModel: 'isnet-anime.onnx' })] }, context()), refusal('enhance.tabs[0].maskModel', /installed: u2net\.onnx/));
  });
});

describe('Enhance through the image generator (tiny SD 1.5, tiny foreground model)', () => {
  let dir: string;
  let outputs: string;
  let store: ModelStore;
  let data: CreativeData;
  let model: string;
  let service: GenerationService;
  let detector: string;
  const W = 136;
  const H = 104;
  const picture = redSquarePicture(W, H, { x0: 52, x1: 80, y0: 36, y1: 64 });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-enhance-app-'));
    outputs = path.join(dir, 'outputs');
    for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d));
    store = await openModelStore(path.join(dir, 'models'));
    model = (await importModel(store, await writeTinyCheckpoint(path.join(dir, 'files'), 'sd15'), { kind: 'checkpoints' })).name;
    detector = await writeTinyForegroundModel(path.join(dir, 'files'));
    await importModel(store, detector, { kind: 'detection' });
    data = await loadCreativeData({ store, catalog: null });
    await writeFile(path.join(outputs, 'input.png'), encodePng(picture.rgb, W, H));
    service = new GenerationService({ runtime: { threads: 2 }, outputsDir: outputs, loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test' });
  });
  after(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('repaints the found region of an input image, skips a tab with nothing left, and keeps every other pixel', async () => {
    const listing = await store.list();
    const request = await prepareImageRequest(
      {
        ...tinyImageRequest('a toy'),
        model,
        steps: 2,
        width: undefined,
        height: undefined,
        input: { file: 'input.png', denoise: 1 },
        enhance: { tabs: [{ detectionPrompt: 'person', prompt: 'a red robot', strength: 0.8 }, { detectionPrompt: 'person', maskErode: 40 }] },
      },
      { data, listing },
      { defaultModel: async () => model, readInput: async () => picture },
    );
    assert.deepEqual([request.width, request.height], [W, H], 'an input enhanced alone keeps its size');
    assert.equal(request.enhance!.tabs[1]!.maskModel, 'u2net.onnx');
    const progress: ServiceProgress[] = [];
    const generate = createImageGenerator({ store, data, service, inputDir: outputs });
    const saved = await generate(request, 0, { input: picture, onProgress: (p) => progress.push(p) });
    const bytes = new Uint8Array(await readFile(saved.path));
    const image = decodePng(bytes);
    assert.deepEqual([image.width, image.height], [W, H]);

    // The region the first tab found, as the detector finds it on the input.
    const fg = await ForegroundMaskModel.load(detector, 'u2net.onnx', { threads: 1 });
    const found = await fg.detect(picture, { prompt: 'person', boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 });
    await fg.release();
    const far = pixelsFarFrom(found.mask, SOFT_MASK_REACH - 1);
    assert.ok(far.length > 4000, `${far.length} pixels outside the soft mask`);
    for (const p of far) assert.deepEqual([...image.rgb.subarray(p * 3, p * 3 + 3)], [...picture.rgb.subarray(p * 3, p * 3 + 3)], `pixel ${p} changed`);
    let changed = 0;
    for (let i = 0; i < found.mask.data.length; i++) if (found.mask.data[i] === 255 && image.rgb[i * 3] !== picture.rgb[i * 3]) changed++;
    assert.ok(changed > 100, `only ${changed} pixels of the region were repainted`);

    const messages = progress.flatMap((p) => (p.phase === 'enhance' ? [p.message] : []));
    assert.ok(messages.includes('Enhance 1/2: repainting "person" (1 region)'), messages.join(' | '));
    assert.ok(messages.includes('Enhance 2/2: no "person" found, tab skipped'), messages.join(' | '));
    // The repaint's sampler steps say which tab they repaint; every other step says what it does.
    const repaintSteps = progress.filter((p) => p.phase === 'sample' && p.message === 'Enhance 1/2: repainting "person" (1 region)');
    assert.ok(repaintSteps.length >= 2, `${repaintSteps.length} repaint steps carry the tab's message`);
    assert.ok(progress.every((p) => p.phase === 'sample' || p.message.trim() !== ''), 'every step besides sampling has a message');

    const text = await readImageMetadata(bytes);
    const record = parseGenerationMetadata(text.parameters!, text.fooocus_scheme).inputImage?.enhance;
    assert.equal(record?.tabs.length, 2);
    assert.deepEqual({ ...record!.tabs[0], regions: record!.tabs[0]!.regions, skipped: record!.tabs[0]!.skipped }, { ...request.enhance!.tabs[0], regions: 1, skipped: false });
    assert.equal(record!.tabs[1]!.skipped, true);
    assert.equal(record!.tabs[1]!.maskErode, 40);
  });

  for (const order of ['before', 'after'] as const) {
    it(`runs a Vary (Subtle) ${order} the tabs, in that order, and records it`, async () => {
      const listing = await store.list();
      const request = await prepareImageRequest(
        {
          ...tinyImageRequest('a toy'),
          model,
          steps: 2,
          width: undefined,
          height: undefined,
          input: { file: 'input.png', denoise: 1 },
          enhance: { tabs: [{ detectionPrompt: 'person', strength: 0.8 }], varyUpscale: { mode: 'vary-subtle' }, varyUpscaleOrder: order },
        },
        { data, listing },
        { defaultModel: async () => model, readInput: async () => picture },
      );
      const events: string[] = [];
      const generate = createImageGenerator({ store, data, service, inputDir: outputs });
      const saved = await generate(request, 0, { input: picture, onProgress: (p) => events.push(p.phase === 'enhance' ? `enhance:${p.message}` : p.phase) });
      const bytes = new Uint8Array(await readFile(saved.path));
      const image = decodePng(bytes);
      // Vary works at the family's size either way: before, the tab repaints at it; after, the Vary resizes the tab's result.
      const size = planVaryUpscaleSize({ mode: 'vary-subtle' }, picture, 'sd15');
      assert.deepEqual([image.width, image.height], [size.width, size.height]);
      assert.ok(size.width > W, `${size.width}x${size.height}`);

      // The Vary renders before the tab's first message, or after its last one (and after the tab's own repaint).
      const firstTab = events.findIndex((e) => e.startsWith('enhance:'));
      const lastTab = events.findLastIndex((e) => e.startsWith('enhance:'));
      assert.ok(firstTab >= 0, events.join(' | '));
      const rendersBefore = events.slice(0, firstTab).filter((e) => e === 'decode').length;
      const tabRenders = events[lastTab]!.includes('repainting') ? 1 : 0;
      const rendersAfter = events.slice(lastTab + 1).filter((e) => e === 'decode').length - tabRenders;
      assert.deepEqual([rendersBefore, rendersAfter], order === 'before' ? [1, 0] : [0, 1], events.join(' | '));

      const text = await readImageMetadata(bytes);
      const record = parseGenerationMetadata(text.parameters!, text.fooocus_scheme).inputImage?.enhance;
      assert.deepEqual(record?.varyUpscale, { mode: 'vary-subtle' });
      assert.equal(record?.varyUpscaleOrder, order);
      assert.equal(record?.tabs.length, 1);
    });
  }
});
