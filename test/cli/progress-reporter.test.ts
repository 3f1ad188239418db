import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { formatDuration, formatRate, ProgressReporter, renderBar } from '../../src/cli/progress-reporter.ts';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('CLI progress', () => {
  it('formats durations, rates and bars', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(75), '1:15');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(NaN), '--:--');
    assert.equal(formatRate(2.5), '2.50 s/it');
    assert.equal(formatRate(0.25), '4.00 it/s');
    assert.equal(renderBar(0, 10), '░'.repeat(24));
    assert.equal(renderBar(5, 10), '█'.repeat(12) + '░'.repeat(12));
  });

  it('shows a bar with rate and ETA on a terminal', () => {
    let t = 0;
    const out = sink();
    const r = new ProgressReporter(out.stream, 'tty', () => t);
    r.update({ label: 'sampling', done: 0, total: 10 });
    t = 4000;
    r.update({ label: 'sampling', done: 2, total: 10 });
    assert.match(out.text(), /sampling █{5}░{19} 2\/10 {2}2\.00 s\/it {2}ETA 0:16/);
  });

  it('writes JSON lines, throttled, keeping the first and last update of each label', () => {
    let t = 0;
    const out = sink();
    const r = new ProgressReporter(out.stream, 'json', () => t);
    for (let i = 0; i <= 10; i++) {
      t = i * 50;
      r.update({ label: 'hashing', done: i, total: 10 });
    }
    const events = out.text().trim().split('\n').map((l) => JSON.parse(l) as { done: number; etaSeconds?: number });
    assert.equal(events[0]!.done, 0);
    assert.equal(events.at(-1)!.done, 10);
    assert.ok(events.length < 11 && events.length >= 3, `throttled to ${events.length} lines`);
    assert.equal(events.at(-1)!.etaSeconds, 0);
  });
});
