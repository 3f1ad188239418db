import { readFile } from 'node:fs/promises';
import os from 'node:os';

/** Instruction-set extensions that decide how fast ONNX Runtime's CPU kernels can run. */
export interface CpuFeatures {
  model: string;
  cores: number;
  avx2: boolean | null;
  avx512: boolean | null;
  avx512Bf16: boolean | null;
  /** int8 dot-product instructions ONNX Runtime's quantized kernels use: AVX512-VNNI, or the AVX2-width AVX-VNNI. */
  avx512Vnni: boolean | null;
  avxVnni: boolean | null;
  amx: boolean | null;
  /** Where the flags came from; `null` fields mean this platform does not expose them. */
  source: 'cpuinfo' | 'unavailable';
}

/** Parses the `flags` line of Linux `/proc/cpuinfo` (x86) into the features we report. */
export function parseCpuinfoFlags(cpuinfo: string): Pick<CpuFeatures, 'avx2' | 'avx512' | 'avx512Bf16' | 'avx512Vnni' | 'avxVnni' | 'amx'> | null {
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  if (line === undefined) return null;
  const flags = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  return {
    avx2: flags.has('avx2'),
    avx512: flags.has('avx512f'),
    avx512Bf16: flags.has('avx512_bf16'),
    avx512Vnni: flags.has('avx512_vnni'),
    avxVnni: flags.has('avx_vnni'),
    amx: flags.has('amx_tile'),
  };
}

export async function detectCpuFeatures(): Promise<CpuFeatures> {
  const cpus = os.cpus();
  const base = { model: cpus[0]?.model.trim() ?? 'unknown', cores: os.availableParallelism() };
  if (process.platform === 'linux') {
    const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
    const flags = parseCpuinfoFlags(text);
    if (flags !== null) return { ...base, ...flags, source: 'cpuinfo' };
  }
  return { ...base, avx2: null, avx512: null, avx512Bf16: null, avx512Vnni: null, avxVnni: null, amx: null, source: 'unavailable' };
}
