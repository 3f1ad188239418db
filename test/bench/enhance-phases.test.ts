/**
 * The Enhance benchmark's phase summary: seconds between the marks of one tab, the inpaint's phases absent when the
 * tab was skipped, and refusals of mark sets that do not describe one run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnhancePhaseClock, summarizeEnhancePhases, type EnhanceMark } from '../../bench/enhance-phases.ts';

const RUN: [EnhanceMark, number][] = [
  ['detect-start', 1_500],
  ['detect-end', 91_500],
  ['render-start', 92_000],
  ['sample-start', 110_000],
  ['decode-start', 310_000],
  ['render-end', 322_000],
  ['save-start', 322_250],
  ['save-end', 323_000],
];

describe('summarizeEnhancePhases', () => {
  it('splits a tab that repainted into its phases, in seconds', () => {
    assert.deepEqual(summarizeEnhancePhases(new Map(RUN), 1_000, 323_500), {
      beforeDetectionSeconds: 0.5,
      detectionSeconds: 90,
      inpaintPrepareSeconds: 18.5,
      samplingSeconds: 200,
      decodeSeconds: 12,
      saveSeconds: 0.75,
      totalSeconds: 322.5,
    });
  });

  it('leaves the inpaint phases out of a skipped tab', () => {
    const skipped = new Map(RUN.filter(([m]) => m.startsWith('detect') || m.startsWith('save')));
    const phases = summarizeEnhancePhases(skipped, 1_000, 323_500);
    assert.deepEqual([phases.inpaintPrepareSeconds, phases.samplingSeconds, phases.decodeSeconds], [null, null, null]);
    assert.equal(phases.detectionSeconds, 90);
  });

  it('refuses marks out of order, a half-recorded render, and a run that never saved', () => {
    const swapped = new Map(RUN);
    swapped.set('decode-start', 100_000);
    assert.throws(() => summarizeEnhancePhases(swapped, 1_000, 323_500), /marks out of order: "decode-start" comes before "sample-start"/);
    assert.throws(() => summarizeEnhancePhases(new Map(RUN), 1_000, 300_000), /"end" comes before "save-end"/);
    const half = new Map(RUN.filter(([m]) => m !== 'decode-start'));
    assert.throws(() => summarizeEnhancePhases(half, 1_000, 323_500), /incomplete: render-start, sample-start, render-end without decode-start/);
    const unsaved = new Map(RUN.filter(([m]) => m !== 'save-end'));
    assert.throws(() => summarizeEnhancePhases(unsaved, 1_000, 323_500), /no "save-end" mark/);
  });
});

describe('EnhancePhaseClock', () => {
  it('keeps the first time of each mark (a second tab or a retry does not move it)', () => {
    let now = 0;
    const clock = new EnhancePhaseClock(0, () => now);
    for (const [mark, at] of RUN) {
      now = at;
      clock.mark(mark);
      now = at + 50;
      clock.mark(mark);
    }
    assert.equal(clock.summarize(323_500).detectionSeconds, 90);
  });
});
