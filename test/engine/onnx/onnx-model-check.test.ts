import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkOnnxFile, checkOnnxModel, expectOnnxSignature, UnsafeOnnxModelError } from '../../../src/engine/index.ts';
import { ProtoReader } from '../../../src/engine/onnx/protobuf-reader.ts';
import { ProtoWriter } from '../../../src/engine/onnx/protobuf-writer.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { buildCheckModel, encode, floatTensor, withGraph } from './onnx-check-fixtures.ts';

const FILE = 'detector.onnx';

function assertRefused(bytes: Uint8Array, rule: string, pattern: RegExp, limits = {}): void {
  assert.throws(
    () => checkOnnxModel(bytes, FILE, limits),
    (err: unknown) => {
      assert.ok(err instanceof UnsafeOnnxModelError, `expected UnsafeOnnxModelError, got ${String(err)}`);
      assert.equal(err.rule, rule);
      assert.match(err.message, /^detector\.onnx: /);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

/** Appends a raw field to a model's bytes (protobuf merges repeated occurrences, so this adds to the message). */
function appendField(bytes: Uint8Array, build: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  build(w);
  return Buffer.concat([bytes, w.finish()]);
}

/** The model's bytes with a tensor the writer cannot express added to its main graph's initializers. */
function addRawInitializer(bytes: Uint8Array, tensor: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.wireType === 0) w.int(f.field, f.varint);
    else if (f.field === 7) w.bytes(7, Buffer.concat([f.bytes, new ProtoWriter().bytes(5, tensor).finish()]));
    else w.bytes(f.field, f.bytes);
  }
  return w.finish();
}

describe('ONNX model checker', () => {
  it('accepts a self-contained standard model, reports its signature, and ONNX Runtime loads the same bytes', async () => {
    const bytes = encode(buildCheckModel());
    const model = checkOnnxModel(bytes, FILE);
    assert.equal(model.irVersion, 8);
    assert.equal(model.opset, 17);
    assert.deepEqual(model.inputs, [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 4, 4] }]);
    assert.deepEqual(model.outputs, [{ name: 'scores', dtype: 'float32', shape: ['batch', 2, 4, 4] }]);
    assert.deepEqual([...model.operators].sort(), ['Conv', 'If', 'Mul', 'Relu']);
    assert.equal(model.initializerBytes, 2 * 3 * 4 + 4 + 1);
    const session = await createModelSession(bytes, null);
    await session.release();
  });

  it('refuses an initializer that refers to external data, naming the tensor and the path', () => {
    const model = withGraph(buildCheckModel(), (g) => ({
      ...g,
      initializers: g.initializers.map((t) => (t.name === 'conv.weight' ? { ...t, data: { kind: 'external' as const, location: '../../etc/passwd', offset: 0, length: 24 } } : t)),
    }));
    assertRefused(encode(model), 'external-data', /tensor "conv\.weight" refers to data outside the file \(external_data "\.\.\/\.\.\/etc\/passwd"\)/);
  });

  it('refuses data_location = EXTERNAL even without a location entry', () => {
    const tensor = new ProtoWriter().packedInts(1, [1]).int(2, 1).string(8, 'bare').bytes(9, new Uint8Array(4)).int(14, 1).finish();
    const bytes = addRawInitializer(encode(buildCheckModel()), tensor);
    assertRefused(bytes, 'external-data', /tensor "bare" refers to data outside the file/);
  });

  it('refuses external data inside a node attribute tensor', () => {
    const model = withGraph(buildCheckModel(), (g) => ({
      ...g,
      nodes: [
        { opType: 'Constant', domain: '', name: 'c', inputs: [], outputs: ['c'], attributes: { value: { type: 'tensor', value: { name: 'k', dtype: 'float32', dims: [1], data: { kind: 'external', location: 'k.bin', offset: 0, length: 4 } } } } },
        ...g.nodes,
      ],
    }));
    assertRefused(encode(model), 'external-data', /tensor "k" refers to data outside the file/);
  });

  it('refuses an import of the com.microsoft or any other non-standard domain', () => {
    assertRefused(encode({ ...buildCheckModel(), opsets: { '': 17, 'com.microsoft': 1 } }), 'opset-domain', /imports operator domain "com\.microsoft"/);
    assertRefused(encode({ ...buildCheckModel(), opsets: { '': 17, 'ai.onnx.ml': 3 } }), 'opset-domain', /"ai\.onnx\.ml"/);
  });

  it('refuses a node in a custom domain and a custom operator in the default domain, naming the node', () => {
    const custom = withGraph(buildCheckModel(), (g) => ({ ...g, nodes: [{ ...g.nodes[0]!, domain: 'com.example', opType: 'Evil', name: 'hook' }, ...g.nodes.slice(1)] }));
    assertRefused(encode(custom), 'operator-domain', /node "hook" \(Evil\) is in domain "com\.example"/);
    const unknown = withGraph(buildCheckModel(), (g) => ({ ...g, nodes: [{ ...g.nodes[0]!, opType: 'FancyConv', name: 'mystery' }, ...g.nodes.slice(1)] }));
    assertRefused(encode(unknown), 'operator', /node "mystery" \(FancyConv\) is not a standard ONNX operator/);
    const decoder = withGraph(buildCheckModel(), (g) => ({ ...g, nodes: [{ ...g.nodes[0]!, opType: 'ImageDecoder', name: 'decode' }, ...g.nodes.slice(1)] }));
    assertRefused(encode(decoder), 'operator', /ImageDecoder/);
  });

  it('refuses unknown opset and IR versions', () => {
    assertRefused(encode(buildCheckModel({ opset: 99 })), 'opset-version', /ai\.onnx opset 99; this build knows 7 to 23/);
    assertRefused(encode(buildCheckModel({ opset: 5 })), 'opset-version', /opset 5/);
    const bytes = encode(buildCheckModel());
    assert.deepEqual([...bytes.subarray(0, 2)], [0x08, 0x08], 'the writer puts ir_version 8 first');
    const future = Uint8Array.from(bytes);
    future[1] = 99;
    assertRefused(future, 'ir-version', /IR version 99/);
    assertRefused(Uint8Array.from({ length: bytes.length - 2 }, (_, i) => bytes[i + 2]!), 'ir-version', /IR version none/);
  });

  it('refuses an initializer past the size limit, by its declared shape, before looking at its data', () => {
    assertRefused(encode(buildCheckModel()), 'tensor-size', /tensor "conv\.weight" of shape \[2, 3, 1, 1\] holds 24 bytes; the limit is 16/, { maxTensorBytes: 16 });
    const huge = new ProtoWriter().packedInts(1, [2 ** 40, 2 ** 40]).int(2, 1).string(8, 'huge').finish();
    const bytes = addRawInitializer(encode(buildCheckModel()), huge);
    assertRefused(bytes, 'tensor-size', /tensor "huge" of shape \[1099511627776, 1099511627776\] holds 4835703278458516698824704 bytes/);
  });

  it('refuses a tensor whose data does not match its shape', () => {
    const model = withGraph(buildCheckModel(), (g) => ({ ...g, initializers: [...g.initializers, { ...floatTensor('short', [3]), dims: [4] }] }));
    assertRefused(encode(model), 'tensor-data', /tensor "short" of shape \[4\] should hold 16 bytes and holds 12/);
    const negative = new ProtoWriter().packedInts(1, [-1]).int(2, 1).string(8, 'neg').finish();
    assertRefused(addRawInitializer(encode(buildCheckModel()), negative), 'tensor-data', /tensor "neg" has a negative dimension/);
  });

  it('refuses files past the size limit, before reading them from disk', () => {
    const bytes = encode(buildCheckModel());
    assertRefused(bytes, 'file-size', new RegExp(`is ${bytes.length} bytes; the limit is 100`), { maxFileBytes: 100 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'onnx-check-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, FILE);
    writeFileSync(file, bytes);
    assert.throws(() => checkOnnxFile(file, { maxFileBytes: 100 }), (err: unknown) => err instanceof UnsafeOnnxModelError && err.rule === 'file-size' && err.kind === 'too-large');
    assert.equal(checkOnnxFile(file).model.outputs[0]!.name, 'scores');
  });

  it('refuses graphs nested past the depth limit', () => {
    assert.doesNotThrow(() => checkOnnxModel(encode(buildCheckModel({ ifDepth: 3 })), FILE));
    assertRefused(encode(buildCheckModel({ ifDepth: 4 })), 'graph-depth', /nests graphs 4 deep; the limit is 3/);
    assertRefused(encode(buildCheckModel({ ifDepth: 2 })), 'graph-depth', /nests graphs 2 deep; the limit is 1/, { maxGraphDepth: 1 });
  });

  it('refuses too many nodes, local functions and training graphs', () => {
    assertRefused(encode(buildCheckModel()), 'node-count', /more than 2 nodes/, { maxNodes: 2 });
    assertRefused(appendField(encode(buildCheckModel()), (w) => w.message(25, (f) => f.string(1, 'Evil'))), 'local-functions', /model-local functions/);
    assertRefused(appendField(encode(buildCheckModel()), (w) => w.message(20, () => undefined)), 'training-info', /training graphs/);
  });

  it('refuses truncated and malformed protobuf with the problem named', () => {
    const bytes = encode(buildCheckModel());
    assertRefused(bytes.subarray(0, bytes.length - 3), 'malformed', /is not a well-formed ONNX file \(.*runs past the end/);
    assertRefused(Uint8Array.from([0x08, 0x08, 0x3b]), 'malformed', /wire type 3/);
    assertRefused(Uint8Array.from([0x08, ...new Array<number>(11).fill(0xff)]), 'malformed', /varint longer than 10 bytes/);
  });

  it('checks the caller’s expected input and output names, types and shapes', () => {
    const model = checkOnnxModel(encode(buildCheckModel()), FILE);
    const image = { name: 'image', dtype: 'float32', shape: [null, 3, 4, 4] };
    const scores = { name: 'scores', dtype: 'float32', shape: [null, 2, 4, 4] };
    expectOnnxSignature(model, FILE, { inputs: [image], outputs: [scores] });
    const refused = (inputs: (typeof image)[], outputs: (typeof image)[], pattern: RegExp): void =>
      assert.throws(() => expectOnnxSignature(model, FILE, { inputs, outputs }), (err: unknown) => err instanceof UnsafeOnnxModelError && err.rule === 'signature' && pattern.test(err.message));
    refused([{ ...image, name: 'input' }], [scores], /detector\.onnx: has inputs \[image\], expected \[input\]/);
    refused([image], [{ ...scores, shape: [null, 3, 4, 4] }], /output "scores" is float32 \[batch, 2, 4, 4\], expected float32 \[\?, 3, 4, 4\]/);
    refused([{ ...image, dtype: 'float16' }], [scores], /input "image" is float32/);
    refused([{ ...image, shape: [1, 3, 4, 4] }], [scores], /input "image" is float32 \[batch, 3, 4, 4\], expected float32 \[1, 3, 4, 4\]/);
  });
});
