/**
 * Fooocus's "Developer Debug Mode" settings: forced steps and size, adaptive CFG, ADM guidance, CLIP skip, seed
 * increment, refiner switch method, VAE and metadata scheme. Bounds come from the request schema (applyLimits); an empty steps or size box
 * leaves the value to the performance mode or the aspect ratio.
 */
import { el, setOptions } from '../dom.ts';
import { DEFAULT_FORM, type FormPatch, type FormValues } from '../form-values.ts';
import type { GenerateContract } from '../request-contract.ts';
import { checkbox, labelled, numberInput, readNumber, readOptionalNumber, selectInput } from './form-fields.ts';

export type DebugValues = Pick<
  FormValues,
  'steps' | 'width' | 'height' | 'adaptiveCfg' | 'admPositive' | 'admNegative' | 'admEnd' | 'clipSkip' | 'seedIncrement' | 'metadataScheme' | 'vae' | 'refinerSwitchMethod'
>;

export interface DebugPanel {
  element: HTMLElement;
  setContract(contract: GenerateContract): void;
  /** The VAE files the server's model list offers (besides the checkpoint's own). */
  setVaeNames(names: readonly string[]): void;
  read(): DebugValues;
  fill(patch: FormPatch): string[];
}

/** Fooocus's label for the checkpoint's own VAE. */
const DEFAULT_VAE_LABEL = 'Default (model)';
const SWITCH_METHOD_LABELS: Record<string, string> = { joint: 'Joint (one sampling run)', separate: 'Separate (a second run)', vae: 'VAE (a second run through both VAEs)' };
const SCHEME_LABELS: Record<string, string> = { fooocus: 'Fooocus (JSON)', a1111: 'A1111 (text)' };

export function createDebugPanel(): DebugPanel {
  const steps = labelled('Steps', numberInput('steps', { step: 1, value: '', placeholder: 'Performance' }), 'Empty: the performance mode decides.');
  const width = labelled('Width', numberInput('width', { step: 8, value: '', placeholder: 'Aspect ratio' }));
  const height = labelled('Height', numberInput('height', { step: 8, value: '', placeholder: 'Aspect ratio' }), 'Both set: this size instead of the aspect ratio.');
  const adaptiveCfg = labelled('Adaptive CFG', numberInput('adaptiveCfg', { step: 0.5, value: DEFAULT_FORM.adaptiveCfg }), 'CFG mimicking from TSNR.');
  const admPositive = labelled('ADM positive scale', numberInput('admScalers.positive', { step: 0.05, value: DEFAULT_FORM.admPositive }));
  const admNegative = labelled('ADM negative scale', numberInput('admScalers.negative', { step: 0.05, value: DEFAULT_FORM.admNegative }));
  const admEnd = labelled('ADM guidance end', numberInput('admScalers.end', { step: 0.05, value: DEFAULT_FORM.admEnd }), 'Fraction of the steps (SDXL only).');
  const clipSkip = labelled('CLIP skip', numberInput('clipSkip', { step: 1, value: DEFAULT_FORM.clipSkip }));
  const sameSeed = checkbox('Same seed for every image (no seed increment)', !DEFAULT_FORM.seedIncrement);
  const scheme = labelled('Metadata scheme', selectInput('metadataScheme'));
  const switchMethod = labelled('Refiner switch method', selectInput('refinerSwitchMethod'), 'How the refiner takes over (with a refiner only).');
  const vae = labelled('VAE', selectInput('vae'), "Decodes the image instead of the model's own VAE.");
  setOptions(vae.control, [{ value: '', label: DEFAULT_VAE_LABEL }]);

  const element = el(
    'details',
    { class: 'debug-panel' },
    el('summary', {}, 'Developer debug mode'),
    el('div', { class: 'debug-grid' }, steps.row, width.row, height.row, adaptiveCfg.row, admPositive.row, admNegative.row, admEnd.row, clipSkip.row),
    el('div', { class: 'field' }, sameSeed.row),
    switchMethod.row,
    vae.row,
    scheme.row,
  );

  return {
    element,
    setContract(contract) {
      // A control whose field the server does not take is hidden rather than sent and refused.
      for (const field of [steps, width, height, adaptiveCfg, admPositive, admNegative, admEnd, clipSkip]) {
        field.row.hidden = !contract.limits.has(field.control.dataset.limits ?? '');
      }
      sameSeed.row.hidden = !contract.fields.has('seedIncrement');
      vae.row.hidden = !contract.fields.has('vae');
      switchMethod.row.hidden = contract.refinerSwitchMethods.length === 0;
      const method = switchMethod.control.value || DEFAULT_FORM.refinerSwitchMethod;
      setOptions(switchMethod.control, contract.refinerSwitchMethods.map((m) => ({ value: m, label: SWITCH_METHOD_LABELS[m] ?? m })));
      switchMethod.control.value = contract.refinerSwitchMethods.includes(method) ? method : DEFAULT_FORM.refinerSwitchMethod;
      scheme.row.hidden = contract.metadataSchemes.length === 0;
      setOptions(scheme.control, contract.metadataSchemes.map((s) => ({ value: s, label: SCHEME_LABELS[s] ?? s })));
      if (!contract.metadataSchemes.includes(scheme.control.value)) scheme.control.value = DEFAULT_FORM.metadataScheme;
    },
    setVaeNames(names) {
      const chosen = vae.control.value;
      setOptions(vae.control, [{ value: '', label: DEFAULT_VAE_LABEL }, ...names.map((n) => ({ value: n, label: n }))]);
      vae.control.value = names.includes(chosen) ? chosen : '';
    },
    read: () => ({
      vae: vae.row.hidden ? '' : vae.control.value,
      refinerSwitchMethod: switchMethod.control.value || DEFAULT_FORM.refinerSwitchMethod,
      steps: readOptionalNumber(steps.control),
      width: readOptionalNumber(width.control),
      height: readOptionalNumber(height.control),
      adaptiveCfg: readNumber(adaptiveCfg.control, DEFAULT_FORM.adaptiveCfg),
      admPositive: readNumber(admPositive.control, DEFAULT_FORM.admPositive),
      admNegative: readNumber(admNegative.control, DEFAULT_FORM.admNegative),
      admEnd: readNumber(admEnd.control, DEFAULT_FORM.admEnd),
      clipSkip: readNumber(clipSkip.control, DEFAULT_FORM.clipSkip),
      seedIncrement: !sameSeed.control.checked,
      metadataScheme: scheme.control.value || DEFAULT_FORM.metadataScheme,
    }),
    fill(patch) {
      const numbers = [
        [steps, patch.steps],
        [width, patch.width],
        [height, patch.height],
        [adaptiveCfg, patch.adaptiveCfg],
        [admPositive, patch.admPositive],
        [admNegative, patch.admNegative],
        [admEnd, patch.admEnd],
        [clipSkip, patch.clipSkip],
      ] as const;
      for (const [field, value] of numbers) if (value !== undefined) field.control.value = value === null ? '' : String(value);
      if (patch.seedIncrement !== undefined) sameSeed.control.checked = !patch.seedIncrement;
      const missing: string[] = [];
      if (patch.vae !== undefined) {
        const offered = [...vae.control.options].some((o) => o.value === patch.vae);
        vae.control.value = offered ? patch.vae : '';
        if (!offered) missing.push(`VAE ${patch.vae}`);
      }
      if (patch.refinerSwitchMethod !== undefined) {
        const offered = [...switchMethod.control.options].some((o) => o.value === patch.refinerSwitchMethod);
        if (offered) switchMethod.control.value = patch.refinerSwitchMethod;
        else missing.push(`refiner switch method ${patch.refinerSwitchMethod}`);
      }
      if (patch.metadataScheme !== undefined) {
        const offered = [...scheme.control.options].some((o) => o.value === patch.metadataScheme);
        if (offered) scheme.control.value = patch.metadataScheme;
        else missing.push(`metadata scheme ${patch.metadataScheme}`);
      }
      return missing;
    },
  };
}
