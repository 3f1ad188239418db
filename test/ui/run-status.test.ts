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
});
