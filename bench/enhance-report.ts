/** The Enhance cases' results (enhance-case.ts: one tab on an input image) and their tables. */
import type { EnhancePhases } from './enhance-phases.ts';
import { printMarkdownTable } from './markdown-table.ts';

export interface EnhanceResult {
  family: 'enhance';
  part: 'tab' | 'tab-detect';
  shape: string;
  regions: number;
  totalSeconds: number;
  beforeSamplingSeconds: number | null;
  /** Fraction of the image inside the detector's mask (before erode/dilate). */
  maskCoverage?: number | null;
  phases?: EnhancePhases;
  peakRssBytes: number;
  cpu: { model: string; flags: string[] };
}

const seconds = (v: number | null | undefined): string => (v === null || v === undefined ? '' : v.toFixed(1));

export function printEnhanceResults(enhances: readonly EnhanceResult[]): void {
  printMarkdownTable(
    ['Enhance', 'shape', 'regions', 's', 's before sampling', 'peak RSS GiB', 'CPU', 'SIMD flags'],
    enhances.map((r) => [r.part, r.shape, `${r.regions}`, r.totalSeconds.toFixed(1), r.beforeSamplingSeconds?.toFixed(1) ?? '', (r.peakRssBytes / 2 ** 30).toFixed(2), r.cpu.model, r.cpu.flags.join(' ')]),
  );
  const phased = enhances.filter((r) => r.phases !== undefined);
  if (phased.length === 0) return;
  printMarkdownTable(
    ['Enhance', 'file checks s', 'detection s', 'inpaint preparation s', 'sampling s', 'decode s', 'save s', 'mask coverage'],
    phased.map((r) => {
      const p = r.phases!;
      const coverage = r.maskCoverage === null || r.maskCoverage === undefined ? '' : `${(r.maskCoverage * 100).toFixed(1)}%`;
      return [r.part, seconds(p.beforeDetectionSeconds), seconds(p.detectionSeconds), seconds(p.inpaintPrepareSeconds), seconds(p.samplingSeconds), seconds(p.decodeSeconds), seconds(p.saveSeconds), coverage];
    }),
  );
}
