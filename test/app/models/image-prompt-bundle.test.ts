/**
 * `models pull --preset image-prompt`: the shipped, signed catalog has an entry for every file the bundle names,
 * the bundle covers every file the four image prompt types need on SDXL and the two IP-Adapter types on SD 1.5, and
 * the bundle's entries (tiny stand-ins with the same ids, kinds and names, served over HTTPS on 127.0.0.1) pull into
 * a store that the submit check then accepts; the pickled IP-Adapters arrive converted to the publisher's keys.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadFile } from '../../../src/app/downloads/downloader.ts';
import { CONTROL_FILES, checkImagePromptFiles, findImagePromptFiles } from '../../../src/app/generation/image-prompt-files.ts';
import type { ImagePromptChoice } from '../../../src/app/generation/image-request.ts';
import { loadCatalog, type CatalogEntry } from '../../../src/app/models/catalog.ts';
import { convertModel } from '../../../src/app/models/convert-model.ts';
import { MODEL_BUNDLES, resolveModelBundle } from '../../../src/app/models/model-bundles.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { pullModel } from '../../../src/app/models/pull-model.ts';
import { detectRetinaFaceLayout, readSafetensorsHeader, type TensorToWrite } from '../../../src/engine/index.ts';
import { detectIpAdapter } from '../../../src/engine/ip-adapter/ip-adapter-layout.ts';
import { generateTinyIpAdapter, generateTinyIpNegative, generateTinyVisionEncoder, writeTinyModel } from '../../fixtures/image-prompt-models.ts';
import { buildTinyRetinaFaceTensors } from '../../fixtures/retinaface.ts';
import { writeTorchSave, type TestValue } from '../../fixtures/torch-save-writer.ts';
import { serveWithRanges, startHttpsTestServer, type HttpsTestServer } from '../downloads/https-test-server.ts';

const SHIPPED = path.resolve(import.meta.dirname, '..', '..', '..', 'catalog', 'catalog.json');
const bundle = MODEL_BUNDLES['image-prompt']!;
const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-ip-bundle-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A state dict as torch.save writes it; `nested` groups keys by their first segment, as Fooocus's IP-Adapter .bin does. */
function toStateDict(tensors: readonly TensorToWrite[], nested: boolean): TestValue {
  const leaf = (t: TensorToWrite): TestValue => {
    const data = t.data as ArrayBufferView;
    return { tensor: { dtype: t.dtype as 'F32' | 'I64', shape: [...t.shape], bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } };
  };
  if (!nested) return { dict: tensors.map((t) => [t.name, leaf(t)]), ordered: true };
  const groups = new Map<string, [string, TestValue][]>();
  for (const t of tensors) {
    const [head, ...rest] = t.name.split('.');
    groups.set(head!, [...(groups.get(head!) ?? []), [rest.join('.'), leaf(t)]]);
  }
  return { dict: [...groups].map(([k, v]) => [k, { dict: v, ordered: true }]), ordered: true };
}

describe('models pull --preset image-prompt', () => {
  it('names only ids the signed catalog has, and covers every file the four types need on SDXL and the two IP-Adapter types on SD 1.5', async () => {
    const catalog = await loadCatalog(SHIPPED, { stateFile: path.join(root, 'state.json') });
    const { entries, missing } = resolveModelBundle(catalog, bundle);
    assert.deepEqual(missing, []);
    const stored = new Set(entries.map((e) => `${e.kind}/${e.convertTo ?? e.fileName}`));
    for (const e of entries) assert.match(e.hashSource, /https:\/\//, `${e.id} says where its SHA-256 was published`);
    const byHand = bundle.byHand.flatMap((f) => f.stored.split(', '));
    const needed = [
      ...(['sdxl', 'sd15'] as const).flatMap((family) => [...findImagePromptFiles('ImagePrompt', family)!, ...findImagePromptFiles('FaceSwap', family)!]),
      ...Object.values(CONTROL_FILES),
    ].map((f) => `${f.kind}/${f.name}`);
    for (const file of needed) assert.ok(stored.has(file) || byHand.includes(file), `${file} is pulled or named to import by hand`);
    assert.deepEqual(byHand.filter((f) => stored.has(f)), [], 'nothing is both pulled and imported by hand');
    assert.ok(bundle.byHand.every((f) => /models import/.test(f.how)), 'each by-hand file says how to import it');
    // The vision encoder is the IP-Adapter publisher's copy, stored under the name the app looks for.
    const encoder = entries.find((e) => e.kind === 'clip_vision')!;
    assert.equal(`${encoder.kind}/${encoder.fileName}`, 'clip_vision/clip_vision_vit_h.safetensors');
    assert.match(encoder.urls[0]!, /^https:\/\/huggingface\.co\/h94\/IP-Adapter\/resolve\/[0-9a-f]{40}\/models\/image_encoder\/model\.safetensors$/);
  });

  it('`models convert` files a Fooocus IP-Adapter .bin (a nested dict) as an IP-Adapter under controlnet/ by its tensors', async () => {
    const dir = mkdtempSync(path.join(root, 'convert-'));
    const source = path.join(dir, 'ip-adapter-plus_sdxl_vit-h.bin');
    writeFileSync(source, writeTorchSave(toStateDict(generateTinyIpAdapter([32], 32), true)));
    const converted = await convertModel(await openModelStore(path.join(dir, 'models')), source);
    assert.deepEqual([converted.kind, converted.role, converted.name], ['controlnet', 'ip-adapter', 'ip-adapter-plus_sdxl_vit-h.safetensors']);
    assert.equal(detectIpAdapter(await readSafetensorsHeader(converted.path)).resampler.queries, 4);
  });

  describe('pulling the bundle over HTTPS', () => {
    let https: HttpsTestServer;
    before(async () => {
      https = await startHttpsTestServer();
    });
    after(() => https.close());

    it('pulls, verifies and converts each file; the submit check then accepts all four types on SDXL and both IP-Adapter types on SD 1.5', async () => {
      const catalog = await loadCatalog(SHIPPED, { stateFile: path.join(root, 'state-2.json') });
      const { entries } = resolveModelBundle(catalog, bundle);
      const files = path.join(root, 'upstream');
      const adapter = generateTinyIpAdapter([32, 32], 32);
      const bytesFor = (entry: CatalogEntry): Promise<Buffer> | Buffer => {
        if (entry.fileName.startsWith('ip-adapter') && entry.fileName.endsWith('.bin')) return Buffer.from(writeTorchSave(toStateDict(adapter, true)));
        if (entry.fileName.startsWith('detection_')) return Buffer.from(writeTorchSave(toStateDict(buildTinyRetinaFaceTensors({ prefix: 'module.' }), false)));
        const tensors = entry.fileName.startsWith('ip-adapter') ? adapter : entry.kind === 'clip_vision' ? generateTinyVisionEncoder() : generateTinyIpNegative();
        return writeTinyModel(mkdtempSync(`${files}-`), entry.fileName, tensors).then((f) => readFileSync(f));
      };
      const models = path.join(root, 'models');
      const store = await openModelStore(models);
      const policy = { allowedHosts: ['127.0.0.1'], ca: https.caCert, allowPrivateAddresses: true };
      for (const real of entries) {
        const body = await bytesFor(real);
        https.route(`/${real.fileName}`, serveWithRanges(body));
        // Same id, kind, names and conversion as the shipped entry; the digest and size of the tiny stand-in.
        const entry: CatalogEntry = { ...real, size: body.length, sha256: createHash('sha256').update(body).digest('hex'), urls: [`${https.origin}/${real.fileName}`] };
        const pulled = await pullModel(store, entry, { download: (request) => downloadFile({ ...request, policy }) });
        assert.equal(pulled.downloaded, true);
        assert.equal(path.basename(pulled.path), real.convertTo ?? real.fileName);
      }
      const adapterHeader = await readSafetensorsHeader(path.join(models, 'controlnet', 'ip-adapter-plus-face_sdxl_vit-h.safetensors'));
      assert.deepEqual(detectIpAdapter(adapterHeader).layerWidths, [32, 32]);
      assert.equal(detectRetinaFaceLayout(await readSafetensorsHeader(path.join(models, 'controlnet', 'detection_Resnet50_Final.safetensors'))).prefix, 'module.');

      const prompts: ImagePromptChoice[] = (['ImagePrompt', 'FaceSwap', 'PyraCanny', 'CPDS'] as const).map((type) => ({ type, file: 'x.png', stopAt: 0.5, weight: 0.6 }));
      assert.throws(() => checkImagePromptFiles(prompts, 'sdxl', []), /models pull --preset image-prompt/);
      const listing = await store.list();
      checkImagePromptFiles(prompts, 'sdxl', listing);
      checkImagePromptFiles(prompts.slice(0, 2), 'sd15', listing);
      assert.deepEqual(detectIpAdapter(await readSafetensorsHeader(path.join(models, 'controlnet', 'ip-adapter-plus-face_sd15.safetensors'))).layerWidths, [32, 32]);
      assert.ok(listing.some((m) => m.kind === 'clip_vision' && m.name === 'clip_vision_vit_h.safetensors' && m.source !== 'local-import'), 'the vision encoder came from the catalog');
    });
  });
});
