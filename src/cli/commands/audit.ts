import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAudit, type AuditReport } from '../../app/audit.ts';
import { createContext, UsageError, type CommandContext } from '../command.ts';
import { verifyConfigLock } from '../../app/config/config-lock.ts';
import { CONFIG_OPTIONS, loadCommandConfig } from '../command-config.ts';
import { withModelUserErrors } from './models.ts';

/** The catalog shipped with the app (catalog/catalog.json beside src/), used when --catalog is not given. */
const SHIPPED_CATALOG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'catalog', 'catalog.json');

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
      ...CONFIG_OPTIONS,
      outputs: { type: 'string' },
      catalog: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length !== 0) throw new UsageError('audit takes no arguments: npm run fooocus -- audit [--models <dir>] [--outputs <dir>] [--catalog <file>] [--json]');
    const catalogFile = values.catalog ?? (existsSync(SHIPPED_CATALOG) ? SHIPPED_CATALOG : undefined);
    // Audit reports insecure directories as findings rather than refusing to look at them.
    const loaded = await loadCommandConfig(ctx, { config: values.config, models: values.models, outputs: values.outputs, 'insecure-permissions': true });
    const configFile = loaded.file;
    const checkConfigLock =
      configFile === null
        ? undefined
        : async () => {
            const status = await verifyConfigLock(configFile);
            return { subject: configFile, ok: true, detail: status === 'locked' ? 'matches its lock' : 'not locked (optional: npm run fooocus -- config lock)' };
          };
    const report = await runAudit({
      modelsDir: loaded.config.paths.models,
      outputsDir: loaded.config.paths.outputs,
      catalogFile,
      signal: ctx.signal,
      ...(checkConfigLock ? { checkConfigLock } : {}),
    });
    ctx.stdout.write((values.json ? JSON.stringify(report, null, 2) : formatAuditReport(report)) + '\n');
    return report.findings === 0 ? 0 : 1;
  });
}
