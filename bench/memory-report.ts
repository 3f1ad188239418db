/** The memory case's results (memory-case.ts: `runtime.memory` modes, ONNX Runtime arena settings) and their tables. */
import { printMarkdownTable } from './markdown-table.ts';

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
  printMarkdownTable(
    ['model', 'image', 'runtime.memory', 'total s', 's per step', 'session builds s', 'peak RSS GiB', 'fp32 weights resident at once GiB', 'peak / resident'],
    memories.map((r) => [r.family, r.shape, r.mode, r.totalSeconds.toFixed(1), r.sampleSecondsPerStep.toFixed(2), r.buildSeconds.toFixed(1), gib(r.peakRssBytes), gib(r.residentFp32Bytes), r.rssOverResident.toFixed(2)]),
  );
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
  printMarkdownTable(
    ['model', 'part', 'CPU arena', 'memory pattern', 'session build s', 'first run s', 's per run', 'peak RSS GiB', 'RSS / fp32 weights'],
    arenas.map((r) => [r.family, r.shape, r.arena ? 'on' : 'off', r.pattern ? 'on' : 'off', r.buildSeconds.toFixed(1), r.firstRunSeconds.toFixed(2), r.secondsPerRun.toFixed(2), gib(r.peakRssBytes), r.rssOverWeights.toFixed(2)]),
  );
}

export interface SessionMemoryResult {
  family: string;
  part: 'session-memory';
  variant: string;
  weightsFp32Bytes: number;
  processStartRssBytes: number;
  beforeBuildRssBytes: number;
  buildSeconds: number;
  buildPeakBytes: number;
  afterBuild: { rssBytes: number; anonBytes: number; fileBytes: number };
  runs: { seconds: number; peakBytes: number; rssAfterBytes: number }[];
  peakBytes: number;
  peakOverWeights: number;
  outputSha256: string;
}

export function printSessionMemoryResults(results: readonly SessionMemoryResult[]): void {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  printMarkdownTable(
    ['model', 'settings', 'process before build GiB', 'build s', 'build peak GiB', 'after build GiB (file-backed)', 'first run peak GiB', 'later run s', 'later run peak GiB', 'peak / fp32 weights', 'output'],
    results.map((r) => {
      const [first, ...later] = r.runs;
      const last = later.at(-1);
      return [
        `${r.family} UNet`,
        r.variant,
        gib(r.beforeBuildRssBytes),
        r.buildSeconds.toFixed(1),
        gib(r.buildPeakBytes),
        `${gib(r.afterBuild.rssBytes)} (${gib(r.afterBuild.fileBytes)})`,
        first ? gib(first.peakBytes) : '-',
        last ? last.seconds.toFixed(2) : '-',
        last ? gib(last.peakBytes) : '-',
        r.peakOverWeights.toFixed(2),
        r.outputSha256.slice(0, 12),
      ];
    }),
  );
}
