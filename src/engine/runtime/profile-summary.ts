/**
 * Reads ONNX Runtime's profiler output (a JSON array of Chrome trace events: one `model_run` event per run, one
 * `<node>_kernel_time` event per node executed, durations in microseconds) into where the time went: seconds per
 * operator type and the slowest nodes, averaged over the runs kept.
 */
import { readFile } from 'node:fs/promises';

export interface OpTypeTime {
  opType: string;
  /** Seconds per run spent in this operator type's kernels. */
  seconds: number;
  /** Share of the kernel time of a run, 0..1. */
  share: number;
  /** Node executions of this type per run. */
  nodes: number;
}

export interface NodeTime {
  node: string;
  opType: string;
  seconds: number;
  /** Input shapes as ONNX Runtime recorded them, when it did. */
  inputShapes: number[][];
}

export interface ProfileSummary {
  /** Runs averaged over (the runs in the file less the skipped warm-up runs). */
  runs: number;
  /** Wall seconds per run (`model_run`), and the kernel seconds inside it. */
  runSeconds: number;
  kernelSeconds: number;
  byOpType: OpTypeTime[];
  topNodes: NodeTime[];
}

interface TraceEvent {
  cat?: unknown;
  name?: unknown;
  ts?: unknown;
  dur?: unknown;
  args?: { op_name?: unknown; input_type_shape?: unknown };
}

const KERNEL_SUFFIX = '_kernel_time';

function inputShapesOf(args: TraceEvent['args']): number[][] {
  const list = args?.input_type_shape;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => (entry !== null && typeof entry === 'object' ? Object.values(entry as Record<string, unknown>).filter(Array.isArray) as number[][] : []));
}

/**
 * Summarizes `events` (the parsed profile), leaving out the first `skipRuns` runs (warm-up: first-run
 * allocations and pre-packing). `top` slowest nodes are listed.
 */
export function summarizeProfile(events: unknown, options: { skipRuns?: number; top?: number } = {}): ProfileSummary {
  if (!Array.isArray(events)) throw new Error('an ONNX Runtime profile is a JSON array of trace events');
  const all = events as TraceEvent[];
  const runs = all.filter((e) => e.name === 'model_run' && typeof e.ts === 'number' && typeof e.dur === 'number').sort((a, b) => (a.ts as number) - (b.ts as number));
  const kept = runs.slice(Math.min(options.skipRuns ?? 0, Math.max(runs.length - 1, 0)));
  if (kept.length === 0) throw new Error('the profile has no model_run event: no run finished while profiling');
  const inKept = (ts: number) => kept.some((r) => ts >= (r.ts as number) && ts <= (r.ts as number) + (r.dur as number));
  const perOp = new Map<string, { us: number; count: number }>();
  const perNode = new Map<string, NodeTime & { us: number }>();
  let kernelUs = 0;
  for (const e of all) {
    if (e.cat !== 'Node' || typeof e.name !== 'string' || !e.name.endsWith(KERNEL_SUFFIX) || typeof e.dur !== 'number' || typeof e.ts !== 'number' || !inKept(e.ts)) continue;
    const opType = typeof e.args?.op_name === 'string' ? e.args.op_name : 'unknown';
    const node = e.name.slice(0, -KERNEL_SUFFIX.length);
    kernelUs += e.dur;
    const op = perOp.get(opType) ?? { us: 0, count: 0 };
    op.us += e.dur;
    op.count++;
    perOp.set(opType, op);
    const n = perNode.get(node) ?? { node, opType, seconds: 0, inputShapes: inputShapesOf(e.args), us: 0 };
    n.us += e.dur;
    perNode.set(node, n);
  }
  const runCount = kept.length;
  const byOpType = [...perOp.entries()]
    .map(([opType, v]) => ({ opType, seconds: v.us / 1e6 / runCount, share: kernelUs === 0 ? 0 : v.us / kernelUs, nodes: v.count / runCount }))
    .sort((a, b) => b.seconds - a.seconds);
  const topNodes = [...perNode.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, options.top ?? 15)
    .map(({ us, ...n }) => ({ ...n, seconds: us / 1e6 / runCount }));
  return {
    runs: runCount,
    runSeconds: kept.reduce((s, r) => s + (r.dur as number), 0) / 1e6 / runCount,
    kernelSeconds: kernelUs / 1e6 / runCount,
    byOpType,
    topNodes,
  };
}

/** Reads and summarizes a profile file written by `ModelSession.endProfiling`. */
export async function readProfileSummary(file: string, options: { skipRuns?: number; top?: number } = {}): Promise<ProfileSummary> {
  const text = await readFile(file, 'utf8');
  let events: unknown;
  try {
    events = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not a JSON profile (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return summarizeProfile(events, options);
}
