import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { detectRetinaFaceLayout, readSafetensorsHeader } from '../../../src/engine/index.ts';
import { convertModel } from '../../../src/app/models/convert-model.ts';
import { UnsupportedModelFileError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { buildTinyRetinaFaceTensors } from '../../fixtures/retinaface.ts';
import { writeLegacyTorchSave, writeTorchSave, type TestValue } from '../../fixtures/torch-save-writer.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-convert-face-'));
after(() => rmSync(root, { recursive: true, force: true }));

/**
 * The tiny RetinaFace as a state dict saved from a DataParallel model, as detection_Resnet50_Final.pth is:
 * every key under `module.`, BatchNorm's `num_batches_tracked` as int64 scalars.
 */
function tinyRetinaFaceStateDict(): TestValue {
  return {
    dict: buildTinyRetinaFaceTensors({ prefix: 'module.' }).map(({ name, dtype, shape, data }) => [
      name,
      { tensor: { dtype: dtype === 'I64' ? 'I64' : 'F32', shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } },
    ]),
    ordered: true,
  };
}

describe('models convert: RetinaFace face detector', () => {
  for (const [format, bytes] of [
    ['zip', () => writeTorchSave(tinyRetinaFaceStateDict())],
    ['legacy', () => writeLegacyTorchSave(tinyRetinaFaceStateDict())],
  ] as const) {
    it(`converts detection_Resnet50_Final.pth (${format} format) into controlnet/, and the detector reads the result`, async () => {
      const dir = mkdtempSync(path.join(root, `${format}-`));
      const source = path.join(dir, 'detection_Resnet50_Final.pth');
      writeFileSync(source, bytes());
      const store = await openModelStore(path.join(dir, 'models'));
      const converted = await convertModel(store, source);
      assert.deepEqual([converted.kind, converted.role, converted.name], ['controlnet', 'face-detector', 'detection_Resnet50_Final.safetensors']);
      const header = await readSafetensorsHeader(converted.path);
      assert.equal(header.tensors.get('module.body.layer1.0.bn1.num_batches_tracked')?.dtype, 'I64');
      assert.deepEqual(detectRetinaFaceLayout(header), { prefix: 'module.', blocks: [1, 2, 1, 1], channels: 16, leaky: 0.1, anchors: 2 });
    });
  }

  it('refuses a face detector given as another kind', async () => {
    const dir = mkdtempSync(path.join(root, 'kind-'));
    const source = path.join(dir, 'detection_Resnet50_Final.pth');
    writeFileSync(source, writeTorchSave(tinyRetinaFaceStateDict()));
    const store = await openModelStore(path.join(dir, 'models'));
    await assert.rejects(convertModel(store, source, { kind: 'upscalers' }), (err: unknown) => err instanceof UnsupportedModelFileError && /face-detector \(kind controlnet\)/.test(err.message));
  });
});
