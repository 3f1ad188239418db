import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { collectDoctorReport, satisfiesMinimum } from '../../src/app/doctor.ts';
import { main } from '../../src/cli/cli.ts';
import { createContext } from '../../src/cli/command.ts';
import { runDoctor } from '../../src/cli/commands/doctor.ts';
import { parseCpuinfoFlags } from '../../src/engine/index.ts';

function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  const text = { out: '', err: '' };
  out.on('data', (c: Buffer) => (text.out += c.toString()));
  err.on('data', (c: Buffer) => (text.err += c.toString()));
  return { io: { stdout: out, stderr: err, signal: new AbortController().signal }, text };
}

describe('fooocus doctor', () => {
  it('compares versions numerically', () => {
    assert.equal(satisfiesMinimum('22.12.0', '>=22.12.0'), true);
    assert.equal(satisfiesMinimum('v24.1.0', '>=22.12.0'), true);
    assert.equal(satisfiesMinimum('22.9.9', '>=22.12.0'), false);
    assert.equal(satisfiesMinimum('20.20.2', '>=22.12.0'), false);
    assert.throws(() => satisfiesMinimum('22.0.0', '^22'), /engines\.node/);
  });

  it('reads AVX2, AVX-512 and AMX from cpuinfo flags', () => {
    const flags = parseCpuinfoFlags('processor : 0\nflags\t\t: fpu sse avx avx2 avx512f avx512_bf16 avx512_vnni amx_tile\n');
    assert.deepEqual(flags, { avx2: true, avx512: true, avx512Bf16: true, avx512Vnni: true, avxVnni: false, amx: true });
    assert.equal(parseCpuinfoFlags('flags : avx2 avx_vnni\n')?.avxVnni, true);
    assert.deepEqual(parseCpuinfoFlags('flags : fpu sse avx\n'), { avx2: false, avx512: false, avx512Bf16: false, avx512Vnni: false, avxVnni: false, amx: false });
    assert.equal(parseCpuinfoFlags('no flags here'), null);
  });

  it('reports node, platform, execution providers and installed dependency versions', async () => {
    const r = await collectDoctorReport();
    assert.equal(r.node.supported, true);
    assert.ok(r.onnxRuntime.executionProviders.some((ep) => ep.name === 'cpu' && ep.bundled));
    const ort = r.dependencies.find((d) => d.name === 'onnxruntime-node');
    assert.ok(ort?.installed, 'onnxruntime-node version is reported');
  });

  it('exits 1 with a clear message when Node is too old', async () => {
    const { io, text } = capture();
    const code = await runDoctor(createContext([], io), '20.20.2');
    assert.equal(code, 1);
    assert.match(text.err, /Node\.js 20\.20\.2 is older than the required >=22/);
    assert.match(text.out, /TOO OLD/);
  });

  it('prints JSON with --json', async () => {
    const { io, text } = capture();
    assert.equal(await main(['doctor', '--json'], io), 0);
    assert.equal((JSON.parse(text.out) as { node: { supported: boolean } }).node.supported, true);
  });

  it('names an unknown option and exits 2', async () => {
    const { io, text } = capture();
    assert.equal(await main(['doctor', '--jsn'], io), 2);
    assert.match(text.err, /--jsn/);
  });

  it('names an unknown command and exits 2', async () => {
    const { io, text } = capture();
    assert.equal(await main(['dance'], io), 2);
    assert.match(text.err, /unknown command "dance"/);
  });
});
