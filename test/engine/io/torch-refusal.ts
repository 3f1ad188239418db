import { strict as assert } from 'node:assert';
import { createBufferSource } from '../../../src/engine/io/pickle/byte-source.ts';
import { readTorchCheckpoint } from '../../../src/engine/io/pickle/torch-checkpoint.ts';
import { TorchFileError } from '../../../src/engine/io/pickle/torch-file-error.ts';

/** Reads `bytes` as a checkpoint named bad.pth and checks it is refused by `rule` (and names `global`, if given). */
export function assertRefused(bytes: Uint8Array, rule: string, global?: string): TorchFileError {
  try {
    readTorchCheckpoint(createBufferSource(bytes), 'bad.pth');
  } catch (err) {
    assert.ok(err instanceof TorchFileError, `expected TorchFileError, got ${String(err)}`);
    assert.equal(err.rule, rule, err.message);
    if (global !== undefined) {
      assert.equal(err.global, global);
      assert.ok(err.message.includes(global) && err.message.includes('bad.pth'), err.message);
    }
    return err;
  }
  assert.fail(`expected a ${rule} refusal`);
}
