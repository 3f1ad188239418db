import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDLE_RUN, type RunState } from '../../src/ui/job-run.ts';
import { describeRun } from '../../src/ui/views/prompt-panel.ts';

describe('the run status line', () => {
  const queued: RunState = { ...IDLE_RUN, phase: 'queued', jobId: 'j1', position: 3 };

  it('shows the place in line while the job waits its turn', () => {
    assert.equal(describeRun(queued), 'Waiting in line (position 3)…');
    assert.equal(describeRun({ ...queued, position: 1 }), 'Starting soon…');
  });

  it('says why no worker takes the job when the server reports a reason, instead of a place that never moves', () => {
    assert.equal(describeRun({ ...queued, waitingFor: 'no connected worker runs on cuda (queue.providers)' }), 'Waiting: no connected worker runs on cuda (queue.providers)…');
  });

  it("shows the job's progress message (an Enhance tab) before its steps, or alone before any step", () => {
    const running: RunState = { ...IDLE_RUN, phase: 'running', jobId: 'j1', step: 3, steps: 8, image: 1, images: 1 };
    assert.equal(describeRun(running), 'Step 3 of 8');
    assert.equal(describeRun({ ...running, message: 'Enhance 1/2: repainting "face" (2 regions)' }), 'Enhance 1/2: repainting "face" (2 regions): Step 3 of 8');
    assert.equal(describeRun({ ...running, step: 0, steps: 0, message: 'Enhance 2/2: no "hand" found, tab skipped' }), 'Enhance 2/2: no "hand" found, tab skipped');
    assert.equal(describeRun({ ...running, step: 0, steps: 0 }), 'Loading models…');
  });

  it('shows any step\'s message the same way: describing the input first, loading, decoding (first letter capitalised)', () => {
    const running: RunState = { ...IDLE_RUN, phase: 'running', jobId: 'j1', image: 1, images: 1 };
    assert.equal(describeRun({ ...running, message: 'describing the input image (Art/Anime)' }), 'Describing the input image (Art/Anime)');
    assert.equal(describeRun({ ...running, message: 'loading demo.safetensors: unet (0/3)' }), 'Loading demo.safetensors: unet (0/3)');
    assert.equal(describeRun({ ...running, step: 8, steps: 8, message: 'decoding (seed 5)' }), 'Decoding (seed 5): Step 8 of 8');
  });
});
