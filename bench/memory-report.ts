/** The memory case's results (memory-case.ts: `runtime.memory` modes, ONNX Runtime arena settings) and their tables. */
export interface MemoryResult {
  family: string;
  part: 'memory';
  shape: string;
  mode: string;
  totalSeconds: number;
  sampleSecondsPerStep: number;
  buildSeconds: number;
  peakRssBytes: number;
  residentFp32Bytes: number;
  rssOverResident: number;
}

export function printMemoryResults(memories: readonly MemoryResult[]): void {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  console.log('');
  console.log('| model | image | runtime.memory | total s | s per step | session builds s | peak RSS GiB | fp32 weights resident at once GiB | peak / resident |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of memories) {
    console.log(`| ${r.family} | ${r.shape} | ${r.mode} | ${r.totalSeconds.toFixed(1)} | ${r.sampleSecondsPerStep.toFixed(2)} | ${r.buildSeconds.toFixed(1)} | ${gib(r.peakRssBytes)} | ${gib(r.residentFp32Bytes)} | ${r.rssOverResident.toFixed(2)} |`);
  }
}

export interface ArenaResult {
  family: string;
  part: 'arena';
  shape: string;
  arena: boolean;
  pattern: boolean;
  buildSeconds: number;
  firstRunSeconds: number;
  secondsPerRun: number;
  peakRssBytes: number;
  weightsFp32Bytes: number;
  rssOverWeights: number;
}

export function printArenaResults(arenas: readonly ArenaResult[]): void {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  console.log('');
  console.log('| model | part | CPU arena | memory pattern | session build s | first run s | s per run | peak RSS GiB | RSS / fp32 weights |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of arenas) {
    console.log(`| ${r.family} | ${r.shape} | ${r.arena ? 'on' : 'off'} | ${r.pattern ? 'on' : 'off'} | ${r.buildSeconds.toFixed(1)} | ${r.firstRunSeconds.toFixed(2)} | ${r.secondsPerRun.toFixed(2)} | ${gib(r.peakRssBytes)} | ${r.rssOverWeights.toFixed(2)} |`);
  }
}
