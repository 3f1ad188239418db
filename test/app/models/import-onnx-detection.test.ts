/** ONNX foreground-mask files enter the store's detection folder only through the ONNX checker; a refused file leaves nothing behind. */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { importModel } from '../../../src/app/models/import-model.ts';
import { UnsupportedModelFileError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { UnsafeOnnxModelError } from '../../../src/engine/index.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { buildTinyForegroundModel, writeTinyForegroundModel } from '../../fixtures/foreground-models.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-import-onnx-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('importing ONNX detection models', () => {
  it('imports a checked foreground-mask model into detection', async () => {
    const store = await openModelStore(path.join(root, 'good'));
    const file = await writeTinyForegroundModel(path.join(root, 'files'));
    const imported = await importModel(store, file, { kind: 'detection' });
    assert.equal(imported.name, 'u2net.onnx');
    assert.ok((await store.list()).some((m) => m.kind === 'detection' && m.name === 'u2net.onnx'));
  });

  it('refuses a file with a custom operator naming it, and places nothing', async () => {
    const store = await openModelStore(path.join(root, 'bad'));
    const model = buildTinyForegroundModel();
    const custom = { ...model, opsets: { ...model.opsets, 'com.example': 1 }, graph: { ...model.graph, nodes: model.graph.nodes.map((n, i) => (i === 0 ? { ...n, domain: 'com.example' } : n)) } };
    const file = path.join(root, 'files', 'custom.onnx');
    writeFileSync(file, encodeOnnxModel(custom));
    await assert.rejects(importModel(store, file, { kind: 'detection' }), (err: unknown) => err instanceof UnsafeOnnxModelError && err.message.startsWith('custom.onnx: '));
    assert.equal(existsSync(path.join(root, 'bad', 'detection', 'custom.onnx')), false);
    assert.deepEqual(await store.list(), []);
  });

  it('accepts ONNX only for the kinds that load it', async () => {
    const store = await openModelStore(path.join(root, 'kinds'));
    const file = await writeTinyForegroundModel(path.join(root, 'files'), 'other.onnx');
    await assert.rejects(importModel(store, file, { kind: 'upscalers' }), UnsupportedModelFileError);
  });
});
