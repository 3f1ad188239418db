import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { interpretPickle } from '../../../src/engine/io/pickle/pickle-machine.ts';
import { TorchFileError } from '../../../src/engine/io/pickle/torch-file-error.ts';
import { assertRefused } from './torch-refusal.ts';
import { PickleEmitter, writeStoredZip, writeTorchSave, writeTorchZip } from '../../fixtures/torch-save-writer.ts';

/** A torch.save-shaped archive around a hand-written pickle (one 16-byte storage "0" available). */
function archive(build: (e: PickleEmitter) => unknown, protocol: 2 | 4 = 2): Uint8Array {
  const e = new PickleEmitter(protocol).header();
  build(e);
  return writeTorchZip(e.stop(), new Map([['0', new Uint8Array(16)]]));
}

/** `{'w': <body>}`: the hostile value sits inside an otherwise ordinary state dict. */
function inStateDict(body: (e: PickleEmitter) => unknown): (e: PickleEmitter) => unknown {
  return (e) => {
    e.op(0x7d).memoize().str('w').memoize();
    body(e);
    e.op(0x73);
  };
}

const call = (module: string, name: string, arg: string) => (e: PickleEmitter) => e.global(module, name).str(arg).op(0x85, 0x52);

describe('PyTorch checkpoint reader refuses code', () => {
  for (const [module, name] of [['os', 'system'], ['builtins', 'eval'], ['posix', 'system'], ['subprocess', 'Popen'], ['builtins', 'getattr']]) {
    it(`refuses a pickle that names ${module}.${name}, with the global and the file in the message`, () => {
      assertRefused(archive(call(module!, name!, 'touch /tmp/pwned')), 'global-refused', `${module}.${name}`);
      assertRefused(archive(inStateDict(call(module!, name!, 'id')), 4), 'global-refused', `${module}.${name}`);
    });
  }

  it('refuses STACK_GLOBAL whatever way its strings were made: from the memo, or from a value that is not a string', () => {
    const fromMemo = archive((e) => e.str('os').memoize().str('system').memoize().op(0x68, 0, 0x68, 1, 0x93).str('id').op(0x85, 0x52), 4);
    assertRefused(fromMemo, 'global-refused', 'os.system');
    // A "computed" module name: the result of a call is refused at the callable before STACK_GLOBAL sees it.
    const computed = archive((e) => e.global('builtins', 'str').str('o').op(0x85, 0x52).str('system').op(0x93), 4);
    assertRefused(computed, 'global-refused', 'builtins.str');
    assertRefused(archive((e) => e.int(1n).str('system').op(0x93), 4), 'pickle-structure');
  });

  it('refuses a __reduce__ trick: REDUCE on anything but an allowlisted rebuild', () => {
    // A storage class is allowlisted as a type name, never as a callable.
    assertRefused(archive((e) => e.global('torch', 'FloatStorage').int(4n).op(0x85, 0x52)), 'call-refused');
    assertRefused(archive((e) => e.str('os.system').str('id').op(0x85, 0x52)), 'call-refused');
    // An allowlisted rebuild whose backward hooks are not an empty OrderedDict (hooks would be code).
    const hooks = archive((e) =>
      e
        .global('torch._utils', '_rebuild_tensor_v2')
        .op(0x28, 0x28)
        .str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(4n)
        .op(0x74, 0x51)
        .int(0n).int(4n).op(0x85).int(1n).op(0x85, 0x89)
        .global('torch.utils.hooks', 'RemovableHandle').op(0x29, 0x52)
        .op(0x74, 0x52),
    );
    assertRefused(hooks, 'global-refused', 'torch.utils.hooks.RemovableHandle');
    assertRefused(archive((e) => e.global('collections', 'OrderedDict').str('x').op(0x85, 0x52)), 'call-refused');
  });

  for (const [name, op] of [['INST', 0x69], ['OBJ', 0x6f], ['NEWOBJ', 0x81], ['NEWOBJ_EX', 0x92], ['EXT1', 0x82], ['PERSID', 0x50], ['LONG4', 0x8b], ['GET', 0x67], ['BYTEARRAY8', 0x96]] as const) {
    it(`refuses the ${name} opcode, naming it`, () => {
      const bytes = archive((e) => e.global('collections', 'OrderedDict').op(0x29, op, 0x30, 0x30, 0x30));
      const err = assertRefused(bytes, 'pickle-opcode');
      assert.match(err.message, new RegExp(`opcode ${name} `));
    });
  }

  it('refuses nested unknown classes inside an ordinary state dict', () => {
    const nested = archive(inStateDict((e) => e.op(0x7d).str('cfg').global('__main__', 'TrainingConfig').op(0x29, 0x52, 0x73)));
    assertRefused(nested, 'global-refused', '__main__.TrainingConfig');
    const numpy = archive(inStateDict((e) => e.global('numpy.core.multiarray', 'scalar').op(0x29, 0x52)), 4);
    assertRefused(numpy, 'global-refused', 'numpy.core.multiarray.scalar');
    // BUILD sets state on an object: only an OrderedDict's attribute dict is read.
    const build = archive(inStateDict((e) => e.op(0x5d).op(0x7d).op(0x62)));
    assertRefused(build, 'call-refused');
  });

  it('refuses persistent ids that are not storages of an allowlisted type', () => {
    const pid = (items: (e: PickleEmitter) => unknown) => archive(inStateDict((e) => { e.op(0x28); items(e); e.op(0x74, 0x51); }));
    assertRefused(pid((e) => e.str('storage').str('FloatStorage').str('0').str('cpu').int(4n)), 'persistent-id');
    assertRefused(pid((e) => e.str('module').global('torch', 'FloatStorage').str('0').str('cpu').int(4n)), 'persistent-id');
    assertRefused(pid((e) => e.str('storage').global('torch', 'IntStorage').str('0').str('cpu').int(4n)), 'global-refused', 'torch.IntStorage');
    assertRefused(pid((e) => e.str('storage').global('torch', 'FloatStorage').str('../../etc/passwd').str('cpu').int(4n)), 'persistent-id');
  });
});

describe('PyTorch checkpoint reader bounds', () => {
  it('refuses a storage declared larger than its bytes in the file', () => {
    const pickle = new PickleEmitter().header().value({ dict: [['w', { tensor: { dtype: 'F32', shape: [4], bytes: new Uint8Array(16) } }]] }).stop();
    assertRefused(writeTorchZip(pickle, new Map([['0', new Uint8Array(8)]])), 'storage-missing');
    // A storage entry whose bytes run past the end of the file (a truncated download).
    const whole = writeTorchSave({ dict: [['w', { tensor: { dtype: 'F32', shape: [4], bytes: new Uint8Array(16) } }]] });
    const central = Buffer.from(whole).indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    assertRefused(Buffer.concat([whole.subarray(0, central - 20), whole.subarray(central)]), 'zip-structure');
  });

  it('refuses huge memo indexes, huge declared string lengths, deep nesting and runaway marks without allocating for them', () => {
    assertRefused(archive((e) => e.op(0x7d, 0x72, 0xff, 0xff, 0xff, 0xff, 0x6a, 0xfe, 0xff, 0xff, 0xff)), 'pickle-structure');
    assertRefused(archive((e) => e.op(0x58, 0xff, 0xff, 0xff, 0xff)), 'pickle-truncated');
    assertRefused(archive((e) => e.op(0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), 'pickle-truncated');
    const deep = archive((e) => {
      e.op(0x7d).str('k');
      for (let i = 0; i < 200; i++) e.op(0x5d);
      for (let i = 0; i < 199; i++) e.op(0x61);
      e.op(0x73);
    });
    assertRefused(deep, 'limit');
    assertRefused(archive((e) => e.op(...new Array<number>(20_000).fill(0x28))), 'limit');
    // Each level holds the previous list twice (through the memo): 2^30 leaves from a few hundred bytes.
    const laughs = archive((e) => {
      e.op(0x7d).str('k').op(0x5d, 0x4e, 0x61).op(0x72, 0, 0, 0, 0, 0x30);
      for (let i = 1; i <= 30; i++) e.op(0x5d, 0x28, 0x6a, ...le32(i - 1), 0x6a, ...le32(i - 1), 0x65, 0x72, ...le32(i), 0x30);
      e.op(0x6a, ...le32(30), 0x73);
    });
    assertRefused(laughs, 'limit');
    const cyclic = archive((e) => e.op(0x7d).str('k').op(0x5d).memoize().op(0x68, 0, 0x61, 0x73), 2);
    assertRefused(cyclic, 'pickle-structure');
    assert.throws(
      () => interpretPickle(Uint8Array.from([0x80, 2, 0x5d, 0x94, 0x5d, 0x94, 0x5d, 0x94, 0x2e]), 'x.pkl', { maxStack: 100, maxMemo: 2, maxMarks: 10 }),
      (err) => err instanceof TorchFileError && err.rule === 'limit',
    );
  });

  it('refuses protocol 0/1 pickles, compressed entries and archives without one data.pkl', () => {
    assertRefused(writeTorchZip(Buffer.from('(dp0\n.'), new Map()), 'pickle-opcode');
    const zip = Buffer.from(writeTorchSave({ dict: [['w', { tensor: { dtype: 'U8', shape: [1], bytes: new Uint8Array(1) } }]] }));
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt16LE(8, central + 10);
    assertRefused(zip, 'zip-compressed');
    assertRefused(writeStoredZip([['a/version', Buffer.from('3')]]), 'no-data-pkl');
    assertRefused(writeStoredZip([['a/data.pkl', Buffer.from([0x80, 2, 0x7d, 0x2e])], ['b/data.pkl', Buffer.from([0x80, 2, 0x7d, 0x2e])]]), 'no-data-pkl');
    assertRefused(writeStoredZip([['a/data.pkl', Buffer.from([0x80, 2, 0x7d, 0x2e])]]), 'no-tensors');
  });
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}
