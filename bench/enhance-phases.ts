/**
 * Where one Enhance tab's time goes, from marks taken while it runs: the generation service's calls (the region
 * detector, the inpaint's render, the save) and the engine's progress events inside the render (first sampling
 * step, start of the decode). Each mark counts once, at its first occurrence, so a summary describes one tab.
 */

export const ENHANCE_MARKS = ['detect-start', 'detect-end', 'render-start', 'sample-start', 'decode-start', 'render-end', 'save-start', 'save-end'] as const;

export type EnhanceMark = (typeof ENHANCE_MARKS)[number];

export interface EnhancePhases {
  /** Request preparation and the file checks (size and SHA-256) before the detector runs. */
  beforeDetectionSeconds: number;
  /** The detector's call: for GroundingDINO + SAM, building both (first run) then boxes, then a mask per box. */
  detectionSeconds: number;
  /** Mask preparation, the checkpoint's load, prompt and VAE encoding up to the first sampling step; null when the tab was skipped. */
  inpaintPrepareSeconds: number | null;
  samplingSeconds: number | null;
  /** The VAE decode and the paste back into the image. */
  decodeSeconds: number | null;
  /** Writing the image with its metadata. */
  saveSeconds: number;
  totalSeconds: number;
}

/** Records marks against a clock (milliseconds, e.g. `performance.now()`). */
export class EnhancePhaseClock {
  readonly #marks = new Map<EnhanceMark, number>();

  constructor(
    readonly startedAt: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  mark(name: EnhanceMark): void {
    if (!this.#marks.has(name)) this.#marks.set(name, this.now());
  }

  /** The phases up to `endedAt` (the end of the whole run). */
  summarize(endedAt: number = this.now()): EnhancePhases {
    return summarizeEnhancePhases(this.#marks, this.startedAt, endedAt);
  }
}

/**
 * Phase seconds from the marks' times (ms). The detector and the save must have run; the render's marks are all
 * present or all absent (a tab that found nothing is skipped and renders nothing). Marks out of order are an error:
 * they would mean the run did not go the way the phases assume.
 */
export function summarizeEnhancePhases(marks: ReadonlyMap<EnhanceMark, number>, startedAt: number, endedAt: number): EnhancePhases {
  const rendered = ENHANCE_MARKS.slice(2, 6);
  const present = rendered.filter((m) => marks.has(m));
  if (present.length !== 0 && present.length !== rendered.length) {
    throw new Error(`the inpaint's marks are incomplete: ${present.join(', ')} without ${rendered.filter((m) => !marks.has(m)).join(', ')}`);
  }
  const order = ENHANCE_MARKS.filter((m) => marks.has(m));
  for (const m of ['detect-start', 'detect-end', 'save-start', 'save-end'] as const) {
    if (!marks.has(m)) throw new Error(`no "${m}" mark: the run did not reach it`);
  }
  const times = [startedAt, ...order.map((m) => marks.get(m)!), endedAt];
  for (let i = 1; i < times.length; i++) {
    if (times[i]! < times[i - 1]!) throw new Error(`marks out of order: "${order[i - 1] ?? 'end'}" comes before "${order[i - 2] ?? 'start'}"`);
  }
  const at = (m: EnhanceMark): number => marks.get(m)!;
  const span = (from: number, to: number): number => (to - from) / 1000;
  const didRender = present.length > 0;
  return {
    beforeDetectionSeconds: span(startedAt, at('detect-start')),
    detectionSeconds: span(at('detect-start'), at('detect-end')),
    inpaintPrepareSeconds: didRender ? span(at('detect-end'), at('sample-start')) : null,
    samplingSeconds: didRender ? span(at('sample-start'), at('decode-start')) : null,
    decodeSeconds: didRender ? span(at('decode-start'), at('render-end')) : null,
    saveSeconds: span(at('save-start'), at('save-end')),
    totalSeconds: span(startedAt, endedAt),
  };
}
