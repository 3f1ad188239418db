import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { attr, GraphBuilder } from '../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel } from '../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../src/engine/runtime/onnx-runtime.ts';
import { readProfileSummary, summarizeProfile } from '../../src/engine/runtime/profile-summary.ts';

const kernel = (node: string, op: string, ts: number, dur: number) => ({ cat: 'Node', name: `${node}_kernel_time`, ts, dur, args: { op_name: op } });

describe('ONNX Runtime profile summary', () => {
  it('averages kernel time per operator type and per node over the runs kept, leaving out warm-up runs', () => {
    const events = [
      { cat: 'Session', name: 'model_run', ts: 0, dur: 1000 },
      kernel('conv_0', 'Conv', 10, 900), // warm-up run: skipped
      { cat: 'Session', name: 'model_run', ts: 2000, dur: 400 },
      kernel('conv_0', 'Conv', 2010, 200),
      kernel('gemm_0', 'Gemm', 2220, 100),
      { cat: 'Node', name: 'gemm_0_fence_before', ts: 2215, dur: 0, args: { op_name: 'Gemm' } },
      { cat: 'Session', name: 'model_run', ts: 3000, dur: 600 },
      kernel('conv_0', 'Conv', 3010, 400),
      kernel('gemm_0', 'Gemm', 3420, 100),
    ];
    const s = summarizeProfile(events, { skipRuns: 1 });
    assert.equal(s.runs, 2);
    assert.equal(s.runSeconds, 500e-6);
    assert.equal(s.kernelSeconds, 400e-6);
    assert.deepEqual(s.byOpType.map((o) => [o.opType, o.seconds, o.share, o.nodes]), [
      ['Conv', 300e-6, 0.75, 1],
      ['Gemm', 100e-6, 0.25, 1],
    ]);
    assert.deepEqual(s.topNodes.map((n) => [n.node, n.opType, n.seconds]), [
      ['conv_0', 'Conv', 300e-6],
      ['gemm_0', 'Gemm', 100e-6],
    ]);
  });

  it('refuses a file that is not a profile, and a profile without a finished run', () => {
    assert.throws(() => summarizeProfile({}), /JSON array/);
    assert.throws(() => summarizeProfile([kernel('a', 'Conv', 0, 1)]), /no model_run/);
  });

  it('reads the profile a session writes with profileFilePrefix: every node of the graph, by its name', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-profile-'));
    try {
      const g = new GraphBuilder('profiled', null);
      const x = g.input('x', 'float32', [1, 4, 8, 8]);
      const conv = g.op('Conv', [x, g.constFloat(new Float32Array(4 * 4 * 9).fill(0.1), [4, 4, 3, 3])], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
      g.output(g.op('Sigmoid', [conv]), 'y', 'float32', [1, 4, 8, 8]);
      const session = await createModelSession(encodeOnnxModel(g.build()), null, { threads: 1, optimization: 'disabled', profileFilePrefix: path.join(dir, 'p') });
      const feed = { x: { dims: [1, 4, 8, 8], data: new Float32Array(256).fill(1) } };
      for (let i = 0; i < 3; i++) await session.run(feed);
      await session.endProfiling();
      await session.release();
      const files = readdirSync(dir).filter((f) => f.startsWith('p') && f.endsWith('.json'));
      assert.equal(files.length, 1);
      const s = await readProfileSummary(path.join(dir, files[0]!), { skipRuns: 1 });
      assert.equal(s.runs, 2);
      assert.deepEqual(s.byOpType.map((o) => o.opType).sort(), ['Conv', 'Identity', 'Sigmoid']); // Identity: the output rename
      assert.ok(s.kernelSeconds > 0 && s.kernelSeconds <= s.runSeconds);
      assert.deepEqual(s.topNodes.map((n) => n.node).sort(), ['Conv_0', 'Sigmoid_0', 'out_y']);
      assert.deepEqual(s.topNodes.find((n) => n.opType === 'Conv')!.inputShapes[0], [1, 4, 8, 8]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
