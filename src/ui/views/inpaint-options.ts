/**
 * The "Inpaint or Outpaint" tab's settings (the mask itself is drawn in mask-canvas.ts): Fooocus's method, the
 * engine, outpaint sides with their padding, mask erode/dilate and invert, respective field, strength and the
 * additional prompt. Empty number boxes leave the value to the method's default.
 */
import { el, setOptions } from '../dom.ts';
import { OUTPAINT_SIDES, type InputImageValues, type OutpaintSideName } from '../input-image-values.ts';
import type { GenerateContract } from '../request-contract.ts';
import { applyLimits, checkbox, labelled, numberInput, readNumber, readOptionalNumber, selectInput } from './form-fields.ts';

/** Fooocus's method names (`flags.inpaint_options`). */
const MODE_LABELS: Record<string, string> = {
  default: 'Inpaint or Outpaint (default)',
  detail: 'Improve Detail (face, hand, eyes, etc.)',
  modify: 'Modify Content (add objects, change background, etc.)',
};
const ENGINE_LABELS: Record<string, string> = {
  'fooocus-v2.6': "Fooocus's inpaint patch v2.6 (SDXL)",
  'inpaint-checkpoint': 'Inpaint checkpoint (9-channel)',
  'latent-blend': 'Any checkpoint (latent blend)',
};
const SIDE_LABELS: Record<OutpaintSideName, string> = { left: 'Left', right: 'Right', top: 'Top', bottom: 'Bottom' };

type InpaintValues = Omit<InputImageValues, 'tab' | 'uovMode' | 'upscaler' | 'upscaleFactor' | 'maskImageId' | 'enhanceTabs' | 'enhanceVary' | 'enhanceVaryOrder' | 'describeFirst'>;

export interface InpaintOptions {
  element: HTMLElement;
  setChoices(modes: readonly string[], engines: readonly string[]): void;
  /** Bounds of the number boxes from the request schema. */
  setContract(contract: GenerateContract): void;
  read(): InpaintValues;
  fill(values: InpaintValues): void;
}

export function createInpaintOptions(): InpaintOptions {
  const mode = labelled('Method', selectInput('inpaint.mode'));
  const engine = labelled('Inpaint engine', selectInput('inpaint.engine'), 'Automatic: chosen from what is installed.');
  const sides = OUTPAINT_SIDES.map((side) => ({ side, box: checkbox(SIDE_LABELS[side], false) }));
  const amount = labelled('Outpaint size', numberInput('inpaint.outpaint.left.percent', { step: 1, value: 30 }));
  const unit = labelled('Unit', selectInput('inpaint.outpaint'));
  setOptions(unit.control, [
    { value: 'percent', label: '% of the side' },
    { value: 'px', label: 'pixels' },
  ]);
  const outpaint = el(
    'fieldset',
    { class: 'choices', 'data-field': 'inpaint.outpaint' },
    el('legend', {}, 'Outpaint direction'),
    ...sides.map((s) => s.box.row),
    el('div', { class: 'field-pair' }, amount.row, unit.row),
  );
  const erode = labelled('Mask erode or dilate', numberInput('inpaint.maskErode', { step: 1, value: 0 }), 'Positive shrinks the mask, negative grows it (pixels).');
  const invert = checkbox('Invert mask when generating', false);
  const field = labelled('Respective field', numberInput('inpaint.respectiveField', { step: 0.001, value: '', placeholder: 'method default' }), '1 uses the whole image.');
  const strength = labelled('Inpaint strength', numberInput('inpaint.strength', { step: 0.01, value: '', placeholder: 'method default' }), 'Denoise of the masked area.');
  const prompt = labelled('Inpaint additional prompt', el('textarea', { rows: 2, 'data-field': 'inpaint.additionalPrompt', placeholder: 'Describe what to paint in the mask.' }));
  const element = el('div', { class: 'inpaint-options' }, mode.row, engine.row, prompt.row, outpaint, erode.row, invert.row, field.row, strength.row);

  let contract: GenerateContract | null = null;
  // The amount box takes the bounds of its unit from the request schema.
  const limitAmount = (): void => {
    amount.control.dataset.limits = `inpaint.outpaint.left.${unit.control.value}`;
    if (contract !== null) applyLimits(amount.row, contract);
  };
  unit.control.addEventListener('change', limitAmount);
  return {
    element,
    setContract(next) {
      contract = next;
      applyLimits(element, next);
      limitAmount();
    },
    setChoices(modes, engines) {
      setOptions(mode.control, modes.map((m) => ({ value: m, label: MODE_LABELS[m] ?? m })));
      setOptions(engine.control, [{ value: '', label: 'Automatic' }, ...engines.map((e) => ({ value: e, label: ENGINE_LABELS[e] ?? e }))]);
    },
    read: () => ({
      inpaintMode: mode.control.value || 'default',
      inpaintEngine: engine.control.value,
      inpaintStrength: readOptionalNumber(strength.control),
      respectiveField: readOptionalNumber(field.control),
      maskErode: Math.round(readNumber(erode.control, 0)),
      invertMask: invert.control.checked,
      additionalPrompt: prompt.control.value,
      outpaintSides: sides.filter((s) => s.box.control.checked).map((s) => s.side),
      outpaintAmount: readNumber(amount.control, 30),
      outpaintUnit: unit.control.value === 'px' ? 'px' : 'percent',
    }),
    fill(values) {
      mode.control.value = values.inpaintMode;
      engine.control.value = values.inpaintEngine;
      strength.control.value = values.inpaintStrength === null ? '' : String(values.inpaintStrength);
      field.control.value = values.respectiveField === null ? '' : String(values.respectiveField);
      erode.control.value = String(values.maskErode);
      invert.control.checked = values.invertMask;
      prompt.control.value = values.additionalPrompt;
      for (const s of sides) s.box.control.checked = values.outpaintSides.includes(s.side);
      amount.control.value = String(values.outpaintAmount);
      unit.control.value = values.outpaintUnit;
      limitAmount();
    },
  };
}
