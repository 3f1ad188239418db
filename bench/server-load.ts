/**
 * Load generator for the server benchmark, run as its own process so the server's event loop is not shared with
 * the client's. Keeps `concurrency` requests in flight (keep-alive connections) until `count` have completed and
 * prints one JSON line: completed, failed (non-2xx), status counts, p50/p99/max latency in ms and throughput.
 * `warmup` requests go first and are not counted: they open the connections and let both sides' JIT settle.
 * Usage: node --import tsx bench/server-load.ts '<json: { url, method, headers, body, concurrency, count, warmup }>'
 */
interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  concurrency: number;
  count: number;
  warmup?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
let latencies: number[] = [];
const statuses = new Map<number, number>();
let issued = 0;

async function worker(count: number): Promise<void> {
  while (issued < count) {
    issued++;
    const started = performance.now();
    const response = await fetch(spec.url, { method: spec.method, headers: spec.headers, ...(spec.body === undefined ? {} : { body: spec.body }) });
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  }
}

async function run(count: number): Promise<number> {
  issued = 0;
  latencies = [];
  statuses.clear();
  const started = performance.now();
  await Promise.all(Array.from({ length: spec.concurrency }, () => worker(count)));
  return (performance.now() - started) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

if ((spec.warmup ?? 0) > 0) await run(spec.warmup ?? 0);
const seconds = await run(spec.count);
const sorted = [...latencies].sort((a, b) => a - b);
const ok = [...statuses].filter(([s]) => s >= 200 && s < 300).reduce((n, [, c]) => n + c, 0);
console.log(
  JSON.stringify({
    completed: latencies.length,
    failed: latencies.length - ok,
    statuses: Object.fromEntries(statuses),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? 0,
    requestsPerSecond: latencies.length / seconds,
  }),
);
