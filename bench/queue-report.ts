/** The queue case's result (queue-case.ts: local vs Redis queue) and its table. */
interface QueueFigures {
  toFirstStepMs: number;
  toHistoryMs: number;
  jobsPerSecond: number;
  largeJobsPerSecond: number;
}

export interface QueueResult {
  family: 'queue';
  part: 'backends';
  batch: number;
  local: QueueFigures;
  redisOne: QueueFigures;
  redisTwo: QueueFigures;
  addedLatencyMs: number;
  largeJob: { width: number; height: number; steps: number };
  twoWorkerSpeedup: number;
  twoWorkerSpeedupSmall: number;
}

export function printQueueResults(queues: readonly QueueResult[]): void {
  console.log('');
  const large = queues[0]?.largeJob;
  const largeLabel = large === undefined ? 'large' : `${large.width}x${large.height}, ${large.steps} steps`;
  console.log(`| queue (demo model, 1 thread per worker) | submit to first step ms (64x64, 2 steps) | last step to history ms | jobs/s 64x64 | jobs/s ${largeLabel} |`);
  console.log('|---|---|---|---|---|');
  for (const r of queues) {
    for (const [name, f] of [['local (SQLite, in-process worker)', r.local], ['Redis, 1 worker process', r.redisOne], ['Redis, 2 worker processes', r.redisTwo]] as const) {
      console.log(`| ${name} | ${f.toFirstStepMs.toFixed(1)} | ${f.toHistoryMs.toFixed(1)} | ${f.jobsPerSecond.toFixed(2)} | ${f.largeJobsPerSecond.toFixed(2)} |`);
    }
    console.log('');
    console.log(`Redis adds ${r.addedLatencyMs.toFixed(1)} ms per job (medians of single jobs); 2 workers run ${r.twoWorkerSpeedup.toFixed(2)}x the jobs/s of 1 on ${largeLabel} jobs and ${r.twoWorkerSpeedupSmall.toFixed(2)}x on 64x64 ones (batches of ${r.batch}).`);
  }
}
