/**
 * `fooocus generate`'s inpaint and outpaint options: their definitions, help lines, and the translation to the
 * request's `inpaint` choice (and back, for naming the option in a refusal).
 */
import path from 'node:path';
import { INPAINT_ENGINES, INPAINT_MODES, type InpaintChoice, type InpaintEngine, type InpaintMode, type OutpaintAmount } from '../../app/generation/image-request.ts';
import { DEFAULT_OUTPAINT_PERCENT } from '../../app/generation/inpaint-step.ts';
import { UsageError } from '../command.ts';
import { parseNumberOption } from './number-option.ts';

export const INPAINT_OPTIONS = {
  mask: { type: 'string' },
  'inpaint-mode': { type: 'string' },
  'inpaint-engine': { type: 'string' },
  'inpaint-strength': { type: 'string' },
  'respective-field': { type: 'string' },
  'mask-erode': { type: 'string' },
  'invert-mask': { type: 'boolean', default: false },
  'inpaint-prompt': { type: 'string' },
  outpaint: { type: 'string' },
  'outpaint-size': { type: 'string' },
} as const;

export const INPAINT_USAGE = [
  'Inpaint and outpaint (with --input IMG):',
  '  --mask MASK               repaint where MASK is white (same size as the input): its alpha when it has',
  '                            transparency, else its luminance',
  `  --inpaint-mode M          ${INPAINT_MODES.join(' | ')} (default default: strength 1, field 0.618; detail: 0.5, 0;`,
  '                            modify: 1, 0, from noise)',
  `  --inpaint-engine E        ${INPAINT_ENGINES.join(' | ')} (default: chosen from the model and what is installed)`,
  '  --inpaint-strength S  --respective-field K  --mask-erode N (negative grows)  --invert-mask',
  '  --inpaint-prompt TEXT     added before the prompt for this image',
  '  --outpaint SIDES          extend left,right,top,bottom (a side may carry its own size: left=128px,top=20%)',
  `  --outpaint-size A         size of each extended side: 30% (default ${DEFAULT_OUTPAINT_PERCENT}% of that axis) or 128px`,
].join('\n');

export interface InpaintValues {
  input?: string | undefined;
  denoise?: string | undefined;
  mask?: string | undefined;
  'inpaint-mode'?: string | undefined;
  'inpaint-engine'?: string | undefined;
  'inpaint-strength'?: string | undefined;
  'respective-field'?: string | undefined;
  'mask-erode'?: string | undefined;
  'invert-mask'?: boolean | undefined;
  'inpaint-prompt'?: string | undefined;
  outpaint?: string | undefined;
  'outpaint-size'?: string | undefined;
}

const SIDES = ['left', 'right', 'top', 'bottom'] as const;

function parseAmount(option: string, text: string): OutpaintAmount {
  const match = /^(\d+(?:\.\d+)?)(%|px)$/.exec(text.trim());
  if (match === null) throw new UsageError(`${option}: give a size as 30% or 128px, got "${text}"`);
  return match[2] === '%' ? { percent: Number(match[1]) } : { px: Number(match[1]) };
}

function parseOutpaint(sides: string, size: string | undefined): NonNullable<InpaintChoice['outpaint']> {
  const fallback: OutpaintAmount = size === undefined ? { percent: DEFAULT_OUTPAINT_PERCENT } : parseAmount('--outpaint-size', size);
  const outpaint: NonNullable<InpaintChoice['outpaint']> = {};
  for (const entry of sides.split(',').map((s) => s.trim())) {
    const [side, amount] = entry.split('=', 2) as [string, string | undefined];
    if (!(SIDES as readonly string[]).includes(side)) throw new UsageError(`--outpaint: unknown side "${side}"; sides: ${SIDES.join(', ')}`);
    outpaint[side as (typeof SIDES)[number]] = amount === undefined ? fallback : parseAmount('--outpaint', amount);
  }
  return outpaint;
}

/** Whether any inpaint option was given. */
function hasInpaintOption(values: InpaintValues): boolean {
  return (Object.keys(INPAINT_OPTIONS) as (keyof typeof INPAINT_OPTIONS)[]).some((k) => (k === 'invert-mask' ? values[k] === true : values[k] !== undefined));
}

/** The request's inpaint choice from the options, or undefined when none was given. */
export function toInpaintChoice(values: InpaintValues): InpaintChoice | undefined {
  if (!hasInpaintOption(values)) return undefined;
  if (values.mask === undefined && values.outpaint === undefined) throw new UsageError('--mask: inpaint needs --mask MASK or --outpaint SIDES');
  if (values.input === undefined) throw new UsageError(`${values.mask !== undefined ? '--mask' : '--outpaint'}: give the image to change with --input IMG`);
  if (values.denoise !== undefined) throw new UsageError('--denoise: for inpaint and outpaint, set the strength with --inpaint-strength');
  if (values['outpaint-size'] !== undefined && values.outpaint === undefined) throw new UsageError('--outpaint-size: give the sides to extend with --outpaint left,top');
  const mode = values['inpaint-mode'] ?? 'default';
  if (!(INPAINT_MODES as readonly string[]).includes(mode)) throw new UsageError(`--inpaint-mode: unknown mode "${mode}"; modes: ${INPAINT_MODES.join(', ')}`);
  const engine = values['inpaint-engine'];
  if (engine !== undefined && !(INPAINT_ENGINES as readonly string[]).includes(engine)) throw new UsageError(`--inpaint-engine: unknown engine "${engine}"; engines: ${INPAINT_ENGINES.join(', ')}`);
  const strength = parseNumberOption('inpaint-strength', values['inpaint-strength']);
  const field = parseNumberOption('respective-field', values['respective-field']);
  const erode = parseNumberOption('mask-erode', values['mask-erode']);
  return {
    mode: mode as InpaintMode,
    ...(values.mask === undefined ? {} : { mask: path.resolve(values.mask) }),
    ...(engine === undefined ? {} : { engine: engine as InpaintEngine }),
    ...(strength === undefined ? {} : { strength }),
    ...(field === undefined ? {} : { respectiveField: field }),
    ...(erode === undefined ? {} : { maskErode: erode }),
    ...(values['invert-mask'] === true ? { invertMask: true } : {}),
    ...(values['inpaint-prompt'] === undefined ? {} : { additionalPrompt: values['inpaint-prompt'] }),
    ...(values.outpaint === undefined ? {} : { outpaint: parseOutpaint(values.outpaint, values['outpaint-size']) }),
  };
}

/** The option that sets an `inpaint.*` field (or the engine's `denoise` for an inpaint), for refusals. */
export function optionForInpaintField(field: string): string | null {
  if (field === 'inpaint') return '--input';
  if (field.startsWith('inpaint.outpaint')) return '--outpaint';
  const options: Record<string, string> = {
    'inpaint.mask': '--mask',
    'inpaint.mode': '--inpaint-mode',
    'inpaint.engine': '--inpaint-engine',
    'inpaint.strength': '--inpaint-strength',
    'inpaint.respectiveField': '--respective-field',
    'inpaint.maskErode': '--mask-erode',
    'inpaint.invertMask': '--invert-mask',
  };
  return options[field] ?? null;
}
