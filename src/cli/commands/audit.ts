import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAudit, type AuditReport } from '../../app/audit.ts';
import { createContext, UsageError, type CommandContext } from '../command.ts';
import { DEFAULT_MODELS_DIR, withModelUserErrors } from './models.ts';

/** The catalog shipped with the app (catalog/catalog.json beside src/), used when --catalog is not given. */
const SHIPPED_CATALOG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'catalog', 'catalog.json');
const DEFAULT_OUTPUTS_DIR = 'outputs';

export function formatAuditReport(report: AuditReport): string {
  const header = ['CHECK', 'SUBJECT', 'STATUS', 'DETAIL'];
  const rows = report.rows.map((r) => [r.check, r.subject, r.status === 'finding' ? 'FINDING' : r.status, r.detail]);
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const lines = [header, ...rows].map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  '));
  const verdict = report.findings === 0 ? 'audit passed: no findings' : `audit FAILED: ${report.findings} finding${report.findings === 1 ? '' : 's'}`;
  return [...lines, '', verdict].join('\n');
}

/**
 * `fooocus audit [--models <dir>] [--outputs <dir>] [--catalog <file>] [--json]`: re-verifies every model in full,
 * checks permissions, the catalog signature and untracked files. Exit code 1 on any finding.
 */
export async function runAuditCommand(ctx: CommandContext): Promise<number> {
  return withModelUserErrors(ctx, async () => {
    const { values, positionals } = createContext(ctx.argv, ctx).parse({
      models: { type: 'string', default: DEFAULT_MODELS_DIR },
      outputs: { type: 'string', default: DEFAULT_OUTPUTS_DIR },
      catalog: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length !== 0) throw new UsageError('audit takes no arguments: fooocus audit [--models <dir>] [--outputs <dir>] [--catalog <file>] [--json]');
    const catalogFile = values.catalog ?? (existsSync(SHIPPED_CATALOG) ? SHIPPED_CATALOG : undefined);
    const report = await runAudit({ modelsDir: values.models, outputsDir: values.outputs, catalogFile, signal: ctx.signal });
    ctx.stdout.write((values.json ? JSON.stringify(report, null, 2) : formatAuditReport(report)) + '\n');
    return report.findings === 0 ? 0 : 1;
  });
}
