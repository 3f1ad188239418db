import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkOnnxModel, UnsafeOnnxModelError } from '../../../src/engine/index.ts';
import { buildCheckModel, encode } from './onnx-check-fixtures.ts';

/** Fixed seed: a failure reproduces; fast-check prints the seed and path to replay it. */
const SEED = 20261206;
const RUNS = 2500;

/** One change to a file's bytes; several are applied in a row. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
  // A long varint or an all-ones length is the classic way to claim a huge size.
  fc.record({ kind: fc.constant('huge-varint' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : m.at % bytes.length;
  const b = Buffer.from(bytes);
  switch (m.kind) {
    case 'set':
      if (b.length > 0) b[at] = m.value;
      return b;
    case 'flip':
      if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
      return b;
    case 'truncate':
      return b.subarray(0, at);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
    case 'repeat':
      return Buffer.concat([b.subarray(0, at + m.count), b.subarray(at)]);
    case 'huge-varint':
      return Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), b.subarray(at + 1)]);
  }
}

describe('ONNX model checker fuzz', () => {
  const seeds = [encode(buildCheckModel()), encode(buildCheckModel({ ifDepth: 3 }))];

  it(`never crashes on ${RUNS} mutated files: each is accepted or refused with UnsafeOnnxModelError`, { timeout: 300_000 }, () => {
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 6 }), (which, mutations) => {
        const bytes = mutations.reduce(apply, seeds[which]!);
        try {
          const model = checkOnnxModel(bytes, 'fuzz.onnx');
          assert.ok(model.nodeCount > 0 && model.opset >= 7 && model.opset <= 23);
          accepted++;
        } catch (err) {
          if (!(err instanceof UnsafeOnnxModelError)) throw err;
          assert.match(err.message, /^fuzz\.onnx: /);
          assert.ok(err.rule !== undefined && err.rule.length > 0);
          refused++;
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    assert.equal(accepted + refused, RUNS);
    // Both outcomes must occur, or the mutations are not reaching the checker's rules.
    assert.ok(refused > RUNS / 4, `refused ${refused}`);
    assert.ok(accepted > 0, `accepted ${accepted}`);
  });
});
