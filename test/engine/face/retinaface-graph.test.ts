import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FaceDetector, toDetectorInput } from '../../../src/engine/face/face-detection.ts';
import { cropFaceForFaceSwap, NoFaceFoundError } from '../../../src/engine/face/face-alignment.ts';
import { detectRetinaFaceLayout, RetinaFaceLayoutError } from '../../../src/engine/face/retinaface-layout.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { buildRetinaFaceGraph } from '../../../src/engine/face/retinaface-graph.ts';
import type { SafetensorsHeader, TensorInfo } from '../../../src/engine/io/safetensors-types.ts';
import { buildVerdictRetinaFaceTensors, listRetinaFaceTensors, RESNET50_RETINAFACE, writeTinyRetinaFace } from '../../fixtures/retinaface.ts';
import { retinaFaceReference } from '../../reference/retinaface.ts';
import { weightSourceFromMap, type RefTensor } from '../../reference/tensor.ts';
import { maxAbsDiff } from '../graphs/graph-harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'retinaface-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic picture with some structure (gradients and a bright disc), so activations are not flat. */
function testImage(width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = (x - width / 2) ** 2 + (y - height / 3) ** 2 < (width / 4) ** 2 ? 90 : 0;
      rgb.set([(x * 5 + disc) % 256, (y * 7 + disc) % 256, ((x + y) * 3) % 256], (y * width + x) * 3);
    }
  }
  return { width, height, rgb };
}

async function weightsOf(file: string): Promise<Map<string, RefTensor>> {
  const header = await readSafetensorsHeader(file);
  const map = new Map<string, RefTensor>();
  for (const [name, info] of header.tensors) if (info.dtype === 'F32') map.set(name, { shape: info.shape, data: await readTensorAsFloat32(header, name) });
  return map;
}

/** The tiny detector with a fixed verdict (see buildVerdictRetinaFaceTensors). */
async function writeVerdictDetector(name: string, faceLevel: number | null): Promise<string> {
  const file = path.join(dir, name);
  await writeSafetensors(file, buildVerdictRetinaFaceTensors(faceLevel));
  return file;
}

describe('RetinaFace graph', () => {
  it('detects the layout from the keys, with or without the module. prefix, and names a file that is not one', async () => {
    const plain = detectRetinaFaceLayout(await readSafetensorsHeader(await writeTinyRetinaFace(dir, {}, 'plain.safetensors')));
    assert.deepEqual(plain, { prefix: '', blocks: [1, 2, 1, 1], channels: 16, leaky: 0.1, anchors: 2 });
    const wrapped = detectRetinaFaceLayout(await readSafetensorsHeader(await writeTinyRetinaFace(dir, { prefix: 'module.' }, 'wrapped.safetensors')));
    assert.equal(wrapped.prefix, 'module.');
    const other = path.join(dir, 'other.safetensors');
    await writeSafetensors(other, [{ name: 'model.0.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    const header = await readSafetensorsHeader(other);
    assert.throws(() => detectRetinaFaceLayout(header), (err: unknown) => err instanceof RetinaFaceLayoutError && /other\.safetensors is not a RetinaFace/.test(err.message) && /body\.conv1\.weight/.test(err.message));
  });

  it("builds the full-size graph from detection_Resnet50_Final.pth's key layout, using every weight it holds", () => {
    // A header only (shapes, no data): the real file's layout without its 100 MB.
    const tensors = new Map<string, TensorInfo>();
    let at = 0;
    for (const t of listRetinaFaceTensors(RESNET50_RETINAFACE, 'module.')) {
      const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'I64' ? 8 : 4);
      tensors.set(t.name, { name: t.name, dtype: t.dtype, shape: t.shape, begin: at, end: at + bytes });
      at += bytes;
    }
    const header: SafetensorsHeader = { file: '/models/controlnet/detection_Resnet50_Final.safetensors', fileSize: 8 + at, dataOffset: 8, metadata: {}, tensors };
    const layout = detectRetinaFaceLayout(header);
    assert.deepEqual(layout, { prefix: 'module.', blocks: [3, 4, 6, 3], channels: 256, leaky: 0, anchors: 2 });
    const model = buildRetinaFaceGraph(header, layout);
    const used = new Set(model.graph.initializers.map((t) => t.name));
    const weights = [...tensors.keys()].filter((k) => !k.endsWith('num_batches_tracked'));
    assert.deepEqual(weights.filter((k) => !used.has(k)), [], 'every weight of the file is read');
    assert.equal(model.graph.nodes.filter((n) => n.opType === 'LeakyRelu').length, 0, 'a 256-channel RetinaFace uses plain ReLU');
    assert.equal(model.graph.nodes.filter((n) => n.opType === 'Conv').length, 1 + 16 * 3 + 4 + 5 + 3 * 5 + 9);
    const parameters = weights.reduce((n, k) => n + tensors.get(k)!.shape.reduce((a, b) => a * b, 1), 0);
    // 104 MB of float32 (the published file's size) is about 26 million values.
    assert.ok(parameters > 25e6 && parameters < 28e6, `${parameters} parameters`);
  });

  it('matches the plain-TypeScript reference on tiny weights (max abs err <= 1e-4), odd image sizes included', async () => {
    const file = await writeTinyRetinaFace(dir, { prefix: 'module.' }, 'reference.safetensors');
    const header = await readSafetensorsHeader(file);
    const detector = await FaceDetector.load(header, { threads: 2 });
    const weights = weightSourceFromMap(await weightsOf(file));
    try {
      for (const [width, height] of [[48, 40], [45, 37]] as const) {
        const image = testImage(width, height);
        const got = await detector.run(image);
        const input = toDetectorInput(image);
        const want = retinaFaceReference(weights, { prefix: 'module.', blocks: [1, 2, 1, 1], leaky: 0.1 }, { shape: [...input.dims], data: input.data });
        for (const key of ['boxes', 'scores', 'landmarks'] as const) {
          const err = maxAbsDiff(got[key], want[key]);
          assert.ok(err <= 1e-4, `${key} at ${width}x${height}: max abs err ${err}`);
        }
        assert.ok(want.boxes.data.some((v) => Math.abs(v) > 0.05), 'the reference output is not trivially zero');
      }
    } finally {
      await detector.release();
    }
  });

  it('crops the best face to 512x512, and names the image prompt slot when there is no face', async () => {
    const image = testImage(64, 48);
    const faceful = await FaceDetector.load(await readSafetensorsHeader(await writeVerdictDetector('faceful.safetensors', 2)), { threads: 2 });
    const faceless = await FaceDetector.load(await readSafetensorsHeader(await writeVerdictDetector('faceless.safetensors', null)), { threads: 2 });
    try {
      const faces = await faceful.detect(image);
      assert.ok(faces.length >= 1 && faces.every((f) => f.score > 0.97));
      const crop = await cropFaceForFaceSwap(faceful, image, 'imagePrompts[1].image');
      assert.equal(crop.width, 512);
      assert.equal(crop.height, 512);
      assert.equal(crop.rgb.length, 512 * 512 * 3);
      assert.deepEqual(await faceless.detect(image), []);
      await assert.rejects(cropFaceForFaceSwap(faceless, image, 'imagePrompts[1].image'), (err: unknown) => {
        assert.ok(err instanceof NoFaceFoundError);
        assert.equal(err.field, 'imagePrompts[1].image');
        assert.equal(err.kind, 'invalid');
        assert.match(err.message, /^imagePrompts\[1\]\.image: no face was found/);
        return true;
      });
    } finally {
      await faceful.release();
      await faceless.release();
    }
  });
});
