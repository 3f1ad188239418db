/**
 * Foreground masks: the tiny model (graph builder, the published files' signature) run through the checker and
 * ONNX Runtime, checked against a plain-TS reference of rembg's pre- and post-processing, and the refusals, each
 * naming the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ForegroundMaskModel, UnsafeOnnxModelError, type RgbImage } from '../../../src/engine/index.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { ProtoReader } from '../../../src/engine/onnx/protobuf-reader.ts';
import { ProtoWriter } from '../../../src/engine/onnx/protobuf-writer.ts';
import { preprocessForeground, readForegroundPrediction, FOREGROUND_INPUT_SIZES } from '../../../src/engine/segment/foreground-mask.ts';
import { resampleLanczos } from '../../../src/engine/upscale/lanczos-resample.ts';
import { buildTinyForegroundModel, redSquarePicture, writeTinyForegroundModel } from '../../fixtures/foreground-models.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-foreground-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** rembg's steps written out: resize, divide by the largest byte, normalise, the tiny model's conv + sigmoid, stretch, resize back. */
function referenceMask(image: RgbImage): Uint8Array {
  const size = 320;
  const { mean, std } = FOREGROUND_INPUT_SIZES.get(size)!;
  const square = resampleLanczos(image, size, size);
  const largest = square.rgb.reduce((a, b) => Math.max(a, b), 0);
  const pred = new Float32Array(size * size);
  for (let i = 0; i < size * size; i++) {
    const c = [0, 1, 2].map((k) => (square.rgb[i * 3 + k]! / largest - mean[k]!) / std[k]!);
    pred[i] = 1 / (1 + Math.exp(-(c[0]! - 0.5 * c[1]! - 0.5 * c[2]!)));
  }
  const lo = pred.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = pred.reduce((a, b) => Math.max(a, b), -Infinity);
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) rgb.fill(Math.trunc(((pred[i]! - lo) / (hi - lo)) * 255), i * 3, i * 3 + 3);
  const back = resampleLanczos({ width: size, height: size, rgb }, image.width, image.height);
  return Uint8Array.from({ length: image.width * image.height }, (_, i) => back.rgb[i * 3]!);
}

function refusedNaming(file: string, rule: string, pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof UnsafeOnnxModelError, `expected UnsafeOnnxModelError, got ${String(err)}`);
    assert.equal(err.rule, rule);
    assert.ok(err.message.startsWith(`${path.basename(file)}: `), err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('foreground-mask models', () => {
  it('matches the plain-TS reference of the pre- and post-processing within one grey level', async () => {
    const file = await writeTinyForegroundModel(dir);
    const model = await ForegroundMaskModel.load(file, 'u2net.onnx', { threads: 1 });
    try {
      assert.equal(model.signature.size, 320);
      const picture = redSquarePicture(96, 72, { x0: 30, x1: 60, y0: 20, y1: 50 });
      const soft = await model.predict(picture);
      const want = referenceMask(picture);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(soft.data[i]! - want[i]!));
      assert.ok(worst <= 1, `largest difference ${worst}`);
    } finally {
      await model.release();
    }
  });

  it('answers "person" with the subject and "background" with everything else, binary at the inpaint threshold', async () => {
    const file = await writeTinyForegroundModel(dir);
    const model = await ForegroundMaskModel.load(file, 'u2net.onnx', { threads: 1 });
    try {
      const picture = redSquarePicture(64, 64, { x0: 16, x1: 48, y0: 16, y1: 48 });
      const query = { boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 };
      const person = await model.detect(picture, { ...query, prompt: 'Person' });
      const background = await model.detect(picture, { ...query, prompt: 'background' });
      assert.equal(person.regions, 1);
      assert.equal(person.mask.data[32 * 64 + 32], 255);
      assert.equal(person.mask.data[2 * 64 + 2], 0);
      assert.ok(person.mask.data.every((v, i) => (v === 0 || v === 255) && background.mask.data[i] === 255 - v));
      await assert.rejects(model.detect(picture, { ...query, prompt: 'hand' }), /cannot find "hand"/);
      const flat = await model.detect({ width: 32, height: 32, rgb: new Uint8Array(32 * 32 * 3).fill(90) }, { ...query, prompt: 'person' });
      assert.equal(flat.regions, 0, 'a flat prediction finds nothing');
    } finally {
      await model.release();
    }
  });

  it('reads the 1024-pixel IS-Net signature with its own normalisation', async () => {
    const file = await writeTinyForegroundModel(dir, 'isnet-general-use.onnx', { size: 1024, inputName: 'input_image' });
    const model = await ForegroundMaskModel.load(file, 'isnet-general-use.onnx', { threads: 1 });
    try {
      assert.equal(model.signature.size, 1024);
      assert.deepEqual(model.signature.normalisation.std, [1, 1, 1]);
    } finally {
      await model.release();
    }
  });

  it('refuses files with the wrong signature, naming the file', async () => {
    const wrongSize = await writeTinyForegroundModel(dir, 'odd-size.onnx', { size: 256 });
    await assert.rejects(ForegroundMaskModel.load(wrongSize, 'odd-size.onnx'), refusedNaming(wrongSize, 'signature', /256x256; the foreground-mask models known here take 320 or 1024/));
    const twoChannels = await writeTinyForegroundModel(dir, 'two-channels.onnx', { outputChannels: 2 });
    await assert.rejects(ForegroundMaskModel.load(twoChannels, 'two-channels.onnx'), refusedNaming(twoChannels, 'signature', /output "d0" is float32 \[1, 2, 320, 320\]/));
  });

  it('refuses custom operators, external data and oversized initialisers before ONNX Runtime sees the file', async () => {
    const base = buildTinyForegroundModel();
    const custom = { ...base, graph: { ...base.graph, nodes: base.graph.nodes.map((n, i) => (i === 0 ? { ...n, opType: 'FastConv', domain: 'com.example' } : n)) } };
    const customFile = path.join(dir, 'custom-op.onnx');
    writeFileSync(customFile, encodeOnnxModel({ ...custom, opsets: { ...custom.opsets, 'com.example': 1 } }));
    await assert.rejects(ForegroundMaskModel.load(customFile, 'custom-op.onnx'), refusedNaming(customFile, 'opset-domain', /com\.example/));

    const external = {
      ...base,
      graph: { ...base.graph, initializers: base.graph.initializers.map((t) => ({ ...t, data: { kind: 'external' as const, location: 'weights.bin', offset: 0, length: 12 } })) },
    };
    const externalFile = path.join(dir, 'external.onnx');
    writeFileSync(externalFile, encodeOnnxModel(external));
    await assert.rejects(ForegroundMaskModel.load(externalFile, 'external.onnx'), refusedNaming(externalFile, 'external-data', /refers to data outside the file/));

    // An initializer declaring 2^40 x 2^40 floats, appended to the main graph (the writer cannot express one).
    const huge = new ProtoWriter().packedInts(1, [2 ** 40, 2 ** 40]).int(2, 1).string(8, 'huge').finish();
    const w = new ProtoWriter();
    for (const f of new ProtoReader(encodeOnnxModel(base)).fields()) {
      if (f.wireType === 0) w.int(f.field, f.varint);
      else if (f.field === 7) w.bytes(7, Buffer.concat([f.bytes, new ProtoWriter().bytes(5, huge).finish()]));
      else w.bytes(f.field, f.bytes);
    }
    const hugeFile = path.join(dir, 'huge.onnx');
    writeFileSync(hugeFile, w.finish());
    await assert.rejects(ForegroundMaskModel.load(hugeFile, 'huge.onnx'), refusedNaming(hugeFile, 'tensor-size', /tensor "huge"/));
  });

  it('stretches a prediction by its own range and keeps a flat one empty', () => {
    const mask = readForegroundPrediction(Float32Array.from([0, 1, 2, 4]), 2, 2, 2);
    assert.deepEqual([...mask.data], [0, 63, 127, 255]);
    assert.deepEqual([...readForegroundPrediction(new Float32Array(4).fill(3), 2, 2, 2).data], [0, 0, 0, 0]);
    const t = preprocessForeground({ width: 1, height: 1, rgb: Uint8Array.from([200, 100, 50]) }, 1, { mean: [0.5, 0.5, 0.5], std: [1, 1, 1] });
    assert.deepEqual([...t.data].map((v) => Math.round(v * 1000) / 1000), [0.5, 0, -0.25]);
  });
});
