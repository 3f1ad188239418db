import { collectDoctorReport, type DoctorReport } from '../../app/doctor.ts';
import { locateConfigFile } from '../../app/config/load-config.ts';
import { checkRedis, type RedisCheck } from '../../app/jobs/redis-check.ts';
import { readRedisSettings } from '../../app/studio/redis-studio-queue.ts';
import type { CommandContext } from '../command.ts';
import { CONFIG_OPTIONS, loadCommandConfig } from '../command-config.ts';

function yesNo(v: boolean | null): string {
  return v === null ? 'unknown' : v ? 'yes' : 'no';
}

export function formatDoctorReport(r: DoctorReport): string {
  const eps = r.onnxRuntime.executionProviders
    .map((ep) => (ep.bundled ? ep.name : `${ep.name} (needs its install step, see README)`))
    .join(', ');
  const lines = [
    `Node.js        ${r.node.version} (required ${r.node.required}) ${r.node.supported ? 'ok' : 'TOO OLD'}`,
    `Platform       ${r.platform.os} ${r.platform.arch} ${r.platform.release}`,
    `CPU            ${r.cpu.model}, ${r.cpu.cores} logical cores`,
    `  AVX2         ${yesNo(r.cpu.avx2)}`,
    `  AVX-512      ${yesNo(r.cpu.avx512)}${r.cpu.avx512Bf16 ? ' (with BF16)' : ''}`,
    `  VNNI (int8)  AVX512-VNNI ${yesNo(r.cpu.avx512Vnni)}, AVX-VNNI ${yesNo(r.cpu.avxVnni)}`,
    `  AMX          ${yesNo(r.cpu.amx)}`,
    `ONNX Runtime   ${r.onnxRuntime.version}; execution providers: ${eps}`,
    'Dependencies',
    ...r.dependencies.map((d) => `  ${d.name.padEnd(24)} ${d.installed ?? 'NOT INSTALLED'} (wanted ${d.wanted})`),
  ];
  return lines.join('\n');
}

export function formatRedisCheck(r: RedisCheck): string {
  if (!r.ok) return `Redis          ${r.url}: CANNOT CONNECT (${r.detail})`;
  const aof = r.appendonly === null ? 'AOF unknown' : r.appendonly ? `AOF on (appendfsync ${r.appendfsync ?? 'unknown'})` : 'AOF OFF: a restart loses queued work (README: several machines)';
  const head = `Redis          ${r.url}: ok, version ${r.version ?? 'unknown'}, ${aof}, ${r.workers} live worker${r.workers === 1 ? '' : 's'}`;
  const workers = r.live.map((w) => `  worker       ${w.id}: ${w.provider}, ${w.concurrency} slot${w.concurrency === 1 ? '' : 's'}, ${w.models} model${w.models === 1 ? '' : 's'}`);
  return [head, ...workers].join('\n');
}

export async function runDoctor(ctx: CommandContext, nodeVersion = process.versions.node): Promise<number> {
  const { values } = ctx.parse({ json: { type: 'boolean', default: false }, redis: { type: 'string' }, ...CONFIG_OPTIONS });
  const report = await collectDoctorReport(nodeVersion);
  // Redis is checked when the configuration (or --redis) names one: the queue of a studio on several machines.
  let redis: RedisCheck | null = null;
  const configFile = await locateConfigFile({ cwd: process.cwd(), env: process.env, ...(values.config === undefined ? {} : { file: values.config }) });
  if (values.redis !== undefined || configFile !== null || process.env.FOOOCUS_QUEUE_REDIS_URL !== undefined) {
    const { config } = await loadCommandConfig(ctx, { config: values.config, models: values.models, 'insecure-permissions': values['insecure-permissions'], redis: values.redis });
    if (config.queue.redisUrl !== null) redis = await checkRedis(await readRedisSettings(config));
  }
  const text = formatDoctorReport(report) + (redis === null ? '' : `\n${formatRedisCheck(redis)}`);
  ctx.stdout.write((values.json ? JSON.stringify(redis === null ? report : { ...report, redis }, null, 2) : text) + '\n');
  if (redis !== null && !redis.ok) {
    ctx.stderr.write(`error: cannot reach Redis at ${redis.url}: ${redis.detail}\n`);
    return 1;
  }
  if (!report.node.supported) {
    ctx.stderr.write(
      `error: Node.js ${report.node.version} is older than the required ${report.node.required}. ` +
        'Run through npm (npm start / npm run fooocus), which uses the Node.js pinned in devDependencies, or install a current LTS.\n',
    );
    return 1;
  }
  return 0;
}
