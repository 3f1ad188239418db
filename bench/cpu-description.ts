import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Model name and the CPU's SIMD flags that decide ONNX Runtime's kernels (float and int8). */
export function describeCpu(): { model: string; flags: string[] } {
  const model = os.cpus()[0]?.model ?? 'unknown';
  if (!existsSync('/proc/cpuinfo')) return { model, flags: [] };
  const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
  const wanted = ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx_vnni', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16', 'amx_int8'];
  const present = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
  return { model, flags: wanted.filter((f) => present.has(f)) };
}
