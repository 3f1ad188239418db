/**
 * SECURITY.md's request-limits table states what the server enforces: each figure is read back from the document
 * and compared with the constants the server (its default quotas), the configuration (defaults and upper bounds)
 * and the engine (its own bounds) use.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AppConfigSchema } from '../../src/app/config/config-schema.ts';
import { IMAGE_SIZE_LIMITS, MAX_IMAGES_PER_REQUEST, MAX_PROMPT_CHARS, MAX_SEED, MAX_STEPS } from '../../src/engine/index.ts';
import { DEFAULT_QUOTAS, type Quotas } from '../../src/server/server-options.ts';

const security = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'SECURITY.md'), 'utf8');

/** `8,000`, `2048 × 2048`, `20 MiB`, `1 GiB` as numbers. */
function parseFigure(text: string): number {
  const product = /^([\d,]+) × ([\d,]+)$/.exec(text);
  if (product !== null) return parseFigure(product[1]!) * parseFigure(product[2]!);
  const bytes = /^([\d,]+) (KiB|MiB|GiB)$/.exec(text);
  if (bytes !== null) return parseFigure(bytes[1]!) * 1024 ** (['KiB', 'MiB', 'GiB'].indexOf(bytes[2]!) + 1);
  assert.match(text, /^[\d,]+$/, `a figure: ${text}`);
  return Number(text.replaceAll(',', ''));
}

/** The table's rows: quota key -> [default, highest]. */
function readLimitsTable(): Map<string, [number, number]> {
  const section = security.slice(security.indexOf('## Request limits'), security.indexOf('## Known limits'));
  const rows = new Map<string, [number, number]>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const key = /^`(\w+)`$/.exec(cells[2] ?? '')?.[1];
    if (key !== undefined) rows.set(key, [parseFigure(cells[3]!), parseFigure(cells[4]!)]);
  }
  return rows;
}

type QuotaSchema = { default: number; maximum: number };
const quotaSchemas = (AppConfigSchema.properties.server.properties.quotas as unknown as { properties: Record<keyof Quotas, QuotaSchema> }).properties;

/** The engine bound behind each quota (upload bytes have none: the configuration's maximum is the bound). */
const ENGINE_BOUNDS: Record<keyof Quotas, number | null> = {
  maxPromptChars: MAX_PROMPT_CHARS,
  maxSteps: MAX_STEPS,
  maxPixels: IMAGE_SIZE_LIMITS.max ** 2,
  maxImages: MAX_IMAGES_PER_REQUEST,
  maxUploadBytes: null,
};

describe('SECURITY.md request limits', () => {
  const table = readLimitsTable();

  it('has one row per quota the server enforces', () => {
    assert.deepEqual([...table.keys()].sort(), Object.keys(DEFAULT_QUOTAS).sort());
  });

  for (const key of Object.keys(DEFAULT_QUOTAS) as (keyof Quotas)[]) {
    it(`${key}: the default the server and the configuration use, and the highest the configuration accepts`, () => {
      const [stated, highest] = table.get(key)!;
      assert.equal(stated, DEFAULT_QUOTAS[key], 'the server default');
      assert.equal(stated, quotaSchemas[key].default, 'the configuration default');
      assert.equal(highest, quotaSchemas[key].maximum, 'the configuration maximum');
      if (ENGINE_BOUNDS[key] !== null) assert.equal(highest, ENGINE_BOUNDS[key], 'the engine bound');
    });
  }

  it('states the image sides and seeds the engine checks, and no other figure for the quotas', () => {
    const { min, max, multiple } = IMAGE_SIZE_LIMITS;
    assert.ok(security.includes(`image sides from ${min} to ${max} in multiples of ${multiple}`));
    assert.equal(MAX_SEED, 2n ** 63n - 1n);
    assert.ok(security.includes('seeds from 0 to 2^63-1'));
    // Any limit written elsewhere as "steps ≤ N" or "prompt ≤ N" would drift from the table.
    assert.doesNotMatch(security, /(steps|prompt|images|characters)\s*(≤|<=|up to) ?[\d,]+/i);
  });
});
