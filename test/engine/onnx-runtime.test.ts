import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { float32ToFloat16Bits } from '../../src/engine/io/half-float.ts';
import { readSafetensorsHeader } from '../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../src/engine/io/safetensors-writer.ts';
import { CheckpointKeyError, GraphBuilder } from '../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel } from '../../src/engine/onnx/onnx-proto.ts';
import { createModelSession, ExecutionProviderUnavailableError, RunCancelledError } from '../../src/engine/runtime/onnx-runtime.ts';
import { createTensor } from '../../src/engine/tensor.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-ort-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A checkpoint whose tensors start at odd offsets (a 3-byte U8 tensor first), with F32, F16 and BF16 weights. */
async function writeOddCheckpoint(): Promise<string> {
  const file = path.join(dir, 'odd.safetensors');
  const f16 = Uint16Array.from([1, -2, 3.5, 0.25].map(float32ToFloat16Bits));
  const bf16 = Uint16Array.from([10, 20, 30, 40].map((v) => new Uint32Array(new Float32Array([v]).buffer)[0]! >>> 16));
  await writeSafetensors(file, [
    { name: 'pad', dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
    { name: 'w.half', dtype: 'F16', shape: [4], data: f16 },
    { name: 'w.full', dtype: 'F32', shape: [4], data: new Float32Array([100, 200, 300, 400]) },
    { name: 'w.brain', dtype: 'BF16', shape: [4], data: bf16 },
  ]);
  return file;
}

describe('ONNX graphs with weights read in place from a checkpoint', () => {
  it('reads F32, F16 (through Cast) and BF16 initializers at unaligned offsets', async () => {
    const header = await readSafetensorsHeader(await writeOddCheckpoint());
    assert.equal((header.dataOffset + header.tensors.get('w.half')!.begin) % 4, 3, 'the fixture really is unaligned');
    const g = new GraphBuilder('sum', header);
    const x = g.input('x', 'float32', [4]);
    const y = g.op('Add', [g.op('Add', [g.op('Add', [x, g.weight('w.half', [4])]), g.weight('w.full')]), g.weight('w.brain')]);
    g.output(y, 'y', 'float32', [4]);
    const session = await createModelSession(encodeOnnxModel(g.build()), dir);
    const out = await session.run({ x: createTensor([4], new Float32Array([0.5, 0.5, 0.5, 0.5])) });
    assert.deepEqual(Array.from(out.y!.data), [111.5, 218.5, 334, 440.75]);
    await session.release();
  });

  it('passes session config entries to ONNX Runtime beside the weights directory', async () => {
    const header = await readSafetensorsHeader(await writeOddCheckpoint());
    const g = new GraphBuilder('half', header);
    g.output(g.op('Add', [g.input('x', 'float32', [4]), g.weight('w.half', [4])]), 'y', 'float32', [4]);
    const model = encodeOnnxModel(g.build());
    // An entry ONNX Runtime acts on visibly: told the bytes are in its own ORT format, it cannot load an ONNX model.
    await assert.rejects(createModelSession(model, dir, { sessionConfig: { 'session.load_model_format': 'ORT' } }));
    // Entries and the external weights directory together: the weights still resolve.
    const session = await createModelSession(model, dir, { sessionConfig: { 'session.disable_prepacking': '1' } });
    const out = await session.run({ x: createTensor([4], new Float32Array([1, 1, 1, 1])) });
    assert.deepEqual(Array.from(out.y!.data), [2, -1, 4.5, 1.25]);
    await session.release();
  });

  it('names the missing key and the mis-shaped key', async () => {
    const header = await readSafetensorsHeader(await writeOddCheckpoint());
    const g = new GraphBuilder('bad', header);
    assert.throws(() => g.weight('model.diffusion_model.out.2.weight'), (e: unknown) => e instanceof CheckpointKeyError && /"model\.diffusion_model\.out\.2\.weight" is missing/.test(e.message));
    assert.throws(() => g.weight('w.full', [2, 2]), /"w\.full" has shape \[4\], expected \[2,2\]/);
  });
});

describe('runtime', () => {
  function tinyModel(): Uint8Array {
    const g = new GraphBuilder('double', null);
    const x = g.input('x', 'float32', ['n']);
    g.output(g.op('Mul', [x, g.constFloat([2], [])]), 'y', 'float32', ['n']);
    return encodeOnnxModel(g.build());
  }

  it('runs sequentially and returns float32 outputs', async () => {
    const session = await createModelSession(tinyModel(), null, { threads: 1 });
    const results = await Promise.all([1, 2, 3].map((v) => session.run({ x: createTensor([2], new Float32Array([v, -v])) })));
    assert.deepEqual(results.map((r) => Array.from(r.y!.data)), [[2, -2], [4, -4], [6, -6]]);
    await session.release();
    await assert.rejects(session.run({ x: createTensor([1]) }), /released/);
  });

  it('does not start a run whose signal is already aborted', async () => {
    const session = await createModelSession(tinyModel(), null);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(session.run({ x: createTensor([1]) }, controller.signal), RunCancelledError);
    await session.release();
  });

  it('explains how to get an execution provider that is not installed', async () => {
    const provider = process.platform === 'win32' ? 'coreml' : 'dml';
    await assert.rejects(createModelSession(tinyModel(), null, { executionProvider: provider }), (e: unknown) => {
      assert.ok(e instanceof ExecutionProviderUnavailableError);
      assert.match(e.message, new RegExp(`"${provider}" is not available`));
      return true;
    });
  });

  it('names the CUDA install step when the CUDA libraries are absent', async (t) => {
    let session;
    try {
      session = await createModelSession(tinyModel(), null, { executionProvider: 'cuda' });
    } catch (e) {
      assert.ok(e instanceof ExecutionProviderUnavailableError, String(e));
      assert.match(e.message, /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/);
      // Where the provider library is simply not fetched, the check says so before ONNX Runtime tries to load it.
      if (process.platform === 'linux') assert.match(e.message, /has no cuda files \(libonnxruntime_providers_cuda\.so is missing\)|libcu|cudnn|provider/i);
      return;
    }
    t.diagnostic('CUDA is installed on this machine; the session was created');
    await session.release();
  });
});
