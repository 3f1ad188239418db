/** The server case's result (server-case.ts: HTTP API under load, queue overhead) and its table. */
interface LoadFigures {
  completed: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
}

export interface ServerResult {
  family: 'server';
  part: 'api';
  read: LoadFigures;
  submit: LoadFigures;
  queueStartedMs: number;
  queueFirstStepMs: number;
}

export function printServerResults(servers: readonly ServerResult[]): void {
  console.log('');
  console.log('| server (127.0.0.1, load from a second process) | requests | non-2xx | p50 ms | p99 ms | requests/s |');
  console.log('|---|---|---|---|---|---|');
  for (const r of servers) {
    for (const [name, f] of [['GET /api/v1/styles, 16 connections', r.read], ['POST /api/v1/generate, 8 connections', r.submit]] as const) {
      console.log(`| ${name} | ${f.completed} | ${f.failed} | ${f.p50Ms.toFixed(2)} | ${f.p99Ms.toFixed(2)} | ${f.requestsPerSecond.toFixed(0)} |`);
    }
    console.log('');
    console.log(`Queue overhead per job (demo model, idle queue, median of 10): submit to started ${r.queueStartedMs.toFixed(1)} ms, submit to first sampling step ${r.queueFirstStepMs.toFixed(1)} ms`);
  }
}
