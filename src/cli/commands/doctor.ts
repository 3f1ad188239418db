import { collectDoctorReport, type DoctorReport } from '../../app/doctor.ts';
import type { CommandContext } from '../command.ts';

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
    `  AMX          ${yesNo(r.cpu.amx)}`,
    `ONNX Runtime   ${r.onnxRuntime.version}; execution providers: ${eps}`,
    'Dependencies',
    ...r.dependencies.map((d) => `  ${d.name.padEnd(24)} ${d.installed ?? 'NOT INSTALLED'} (wanted ${d.wanted})`),
  ];
  return lines.join('\n');
}

export async function runDoctor(ctx: CommandContext, nodeVersion = process.versions.node): Promise<number> {
  const { values } = ctx.parse({ json: { type: 'boolean', default: false } });
  const report = await collectDoctorReport(nodeVersion);
  ctx.stdout.write((values.json ? JSON.stringify(report, null, 2) : formatDoctorReport(report)) + '\n');
  if (!report.node.supported) {
    ctx.stderr.write(
      `error: Node.js ${report.node.version} is older than the required ${report.node.required}. ` +
        'Run through npm (npm start / npm run fooocus), which uses the Node.js pinned in devDependencies, or install a current LTS.\n',
    );
    return 1;
  }
  return 0;
}
