/**
 * `fooocus metadata IMG [--json]`: which tool made an image, every text field it carries, and the settings it
 * records mapped to this project's request fields (with what has no equivalent listed as not applied), read by the
 * same engine reader the server's metadata route and the page use.
 */
import { readFile, stat } from 'node:fs/promises';
import { readImageMetadataReport, type ImageMetadataReport, type SettingsCandidate } from '../../engine/index.ts';
import { UsageError, type CommandContext } from '../command.ts';

/** Larger files are not images anyone generated; refusing them keeps a typo from reading a disk image into memory. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Field values longer than this are shortened in the text listing (`--json` keeps them whole). */
const SHOWN_CHARS = 300;

export async function runMetadata(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse({ json: { type: 'boolean', default: false } });
  if (positionals.length !== 1) throw new UsageError('metadata takes exactly one image file: npm run fooocus -- metadata <image> [--json]');
  const file = positionals[0]!;
  const size = await stat(file).then(
    (s) => (s.isFile() ? s.size : -1),
    () => -1,
  );
  if (size < 0) throw new UsageError(`${file}: no such file`);
  if (size > MAX_FILE_BYTES) throw new UsageError(`${file}: ${size} bytes is over the ${MAX_FILE_BYTES}-byte limit for an image`);
  let report: ImageMetadataReport;
  try {
    report = await readImageMetadataReport(new Uint8Array(await readFile(file)));
  } catch (error) {
    if (error instanceof Error) error.message = `${file}: ${error.message}`;
    throw error;
  }
  ctx.stdout.write((values.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
  return 0;
}

export function formatReport(report: ImageMetadataReport): string {
  const lines = [`Format         ${report.format.toUpperCase()}`];
  if (report.scheme === 'none') return [...lines, 'Metadata       none (the file carries no text fields)'].join('\n');
  if (report.scheme === 'unknown') lines.push('Metadata       unknown scheme: no reader recognises these fields, so nothing is applied');
  else lines.push(`Metadata       ${report.scheme}, written by ${report.tool} (from ${report.source})`);
  lines.push('', 'Fields:');
  for (const field of report.fields) lines.push(`  ${field.key}: ${shorten(field.value)}`);
  for (const candidate of report.candidates) lines.push('', ...formatCandidate(candidate, report.candidates.length > 1));
  return lines.join('\n');
}

function formatCandidate(candidate: SettingsCandidate, several: boolean): string[] {
  const lines = [several ? `Settings of ${candidate.label}:` : 'Settings:'];
  const entries = Object.entries(candidate.settings);
  if (entries.length === 0) lines.push('  (none)');
  for (const [key, value] of entries) lines.push(`  ${key.padEnd(20)} ${shorten(typeof value === 'string' ? value : JSON.stringify(value))}`);
  if (candidate.notApplied.length > 0) {
    lines.push('Not applied:');
    for (const field of candidate.notApplied) lines.push(`  ${field.key}: ${shorten(field.value)} (${field.reason})`);
  }
  return lines;
}

function shorten(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > SHOWN_CHARS ? `${flat.slice(0, SHOWN_CHARS - 1)}…` : flat;
}
