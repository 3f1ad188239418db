/**
 * The advanced settings, Fooocus's right-hand column: performance, size, count, format, negative prompt, seed,
 * styles, models, LoRAs, sampling and the developer settings. `read` returns the form's values, `fill` applies a
 * FormPatch and says what it could not apply (a model, style or mode this server does not have). Modes, formats
 * and every number's bounds come from the server's request schema (`setContract`).
 */
import type { AspectRatios, ModelInfo, StyleInfo } from '../api-types.ts';
import { el, replace, setOptions, uniqueId } from '../dom.ts';
import { DEFAULT_FORM, type FormPatch, type FormValues } from '../form-values.ts';
import type { GenerateContract } from '../request-contract.ts';
import { SAMPLERS, SCHEDULERS } from '../sampling-options.ts';
import { describeSize } from './aspect-labels.ts';
import { createDebugPanel } from './debug-panel.ts';
import { applyLimits, labelled, numberInput, readNumber, selectInput, sliderField } from './form-fields.ts';
import { createSeedField } from './seed-field.ts';
import { createLoraList } from './lora-list.ts';
import { createStylePicker } from './style-picker.ts';

export interface AdvancedPanel {
  element: HTMLElement;
  setCatalog(catalog: { models: ModelInfo[]; styles: StyleInfo[]; ratios: AspectRatios }): void;
  setContract(contract: GenerateContract): void;
  /** Shows the seed a run used while Random is ticked (Fooocus fills the box the same way). */
  showUsedSeed(seed: string): void;
  read(): Omit<FormValues, 'prompt' | 'inputImageId' | 'denoise' | 'inputImage' | 'imagePrompts'>;
  fill(patch: FormPatch): string[];
  /** Family of the chosen checkpoint (`sdxl`, `sd15`, or '' when unknown). */
  family(): string;
}

const FAMILY_FALLBACK_SD15 = ['512*512', '512*768', '768*512', '448*576', '576*448', '384*640', '640*384'];

export function createAdvancedPanel(): AdvancedPanel {
  // Performance: one radio per mode the request schema lists.
  const performanceName = uniqueId('performance');
  let performanceRadios: HTMLInputElement[] = [];
  const performance = el('fieldset', { class: 'performance', 'data-field': 'performance' }, el('legend', {}, 'Performance'));
  const showModes = (modes: readonly string[]): void => {
    const chosen = performanceRadios.find((r) => r.checked)?.value ?? DEFAULT_FORM.performance;
    const rows = modes.map((mode) => {
      const id = uniqueId('performance');
      const radio = el('input', { type: 'radio', name: performanceName, id, value: mode, checked: mode === chosen });
      return { radio, row: el('span', { class: 'choice' }, radio, el('label', { for: id }, mode)) };
    });
    performanceRadios = rows.map((r) => r.radio);
    replace(performance, el('legend', {}, 'Performance'), ...rows.map((r) => r.row));
  };

  const aspect = labelled('Aspect ratio', selectInput('aspectRatio'));
  const imageCount = labelled('Image number', numberInput('imageCount', { step: 1, value: DEFAULT_FORM.imageCount }));
  const format = labelled('Output format', selectInput('format'));
  const negative = labelled('Negative prompt', el('textarea', { rows: 2, 'data-field': 'negative', placeholder: 'What to keep out of the image' }));
  const seed = createSeedField();

  const styles = createStylePicker();
  const model = labelled('Base model', selectInput('model'));
  const refiner = labelled('Refiner', selectInput('refiner'));
  const refinerSwitch = labelled('Refiner switch at', numberInput('refinerSwitch', { step: 0.05, value: DEFAULT_FORM.refinerSwitch }));
  const loras = createLoraList();
  const cfg = sliderField('Guidance scale', 'cfg', { step: 0.5, value: DEFAULT_FORM.cfg });
  const sharpness = sliderField('Image sharpness', 'sharpness', { step: 0.5, value: DEFAULT_FORM.sharpness });
  const debug = createDebugPanel();
  const sampler = labelled('Sampler', selectInput('sampler'));
  setOptions(sampler.control, SAMPLERS.map((s) => ({ value: s.id, label: `${s.label} (${s.id})` })));
  sampler.control.value = DEFAULT_FORM.sampler;
  const scheduler = labelled('Scheduler', selectInput('scheduler'));
  setOptions(scheduler.control, SCHEDULERS.map((s) => ({ value: s.id, label: s.label })));
  scheduler.control.value = DEFAULT_FORM.scheduler;

  const element = el(
    'div',
    { class: 'advanced' },
    el('section', { 'aria-label': 'Setting' }, performance, aspect.row, imageCount.row, format.row, negative.row, seed.element),
    el('section', { 'aria-label': 'Styles' }, styles.element),
    el('section', { 'aria-label': 'Models' }, model.row, refiner.row, refinerSwitch.row, loras.element),
    el('section', { 'aria-label': 'Sampling' }, cfg.row, sharpness.row, sampler.row, scheduler.row, debug.element),
  );

  let models: ModelInfo[] = [];
  let ratios: AspectRatios = { sdxl: [DEFAULT_FORM.aspectRatio], sd15: [] };
  const family = (): string => models.find((m) => m.name === model.control.value)?.family ?? '';
  const sizesFor = (f: string): string[] => (f === 'sd15' ? (ratios.sd15.length > 0 ? ratios.sd15 : FAMILY_FALLBACK_SD15) : ratios.sdxl);
  const showSizes = (): void => {
    const list = sizesFor(family());
    setOptions(aspect.control, list.map((size) => ({ value: size, label: describeSize(size) })));
    if (!list.includes(aspect.control.value)) aspect.control.value = list.includes(DEFAULT_FORM.aspectRatio) ? DEFAULT_FORM.aspectRatio : (list[0] ?? '');
  };
  model.control.addEventListener('change', showSizes);
  // A model chosen by hand replaces the preset's choices; the preset is no longer sent.
  let preset = '';
  for (const select of [model.control, refiner.control]) select.addEventListener('change', () => (preset = ''));

  /** Selects `value` when offered (also by name without folder or extension); false when it is not. */
  const choose = (select: HTMLSelectElement, value: string): boolean => {
    const stem = (name: string): string => name.replace(/^.*[\\/]/, '').replace(/\.(safetensors|ckpt|onnx)$/i, '');
    const match = [...select.options].find((o) => o.value === value) ?? [...select.options].find((o) => stem(o.value) === stem(value));
    if (match !== undefined) select.value = match.value;
    return match !== undefined;
  };

  return {
    element,
    family,
    setCatalog(catalog) {
      models = catalog.models;
      ratios = catalog.ratios;
      const checkpoints = models.filter((m) => m.kind === 'checkpoint' || m.kind === 'refiner');
      setOptions(model.control, checkpoints.map((m) => ({ value: m.name, label: m.demo ? `${m.name} (demo)` : m.name })));
      setOptions(refiner.control, [{ value: '', label: 'None' }, ...checkpoints.filter((m) => !m.demo).map((m) => ({ value: m.name, label: m.name }))]);
      loras.setNames(models.filter((m) => m.kind === 'lora').map((m) => m.name));
      debug.setVaeNames(models.filter((m) => m.kind === 'vae').map((m) => m.name));
      styles.setStyles(catalog.styles);
      styles.select(DEFAULT_FORM.styles.filter((name) => catalog.styles.some((s) => s.name === name)));
      showSizes();
    },
    setContract(contract) {
      showModes(contract.performanceModes);
      setOptions(format.control, contract.formats.map((f) => ({ value: f, label: f.toUpperCase() })));
      if (!contract.formats.includes(format.control.value)) format.control.value = DEFAULT_FORM.format;
      debug.setContract(contract);
      loras.setWeightLimits(contract.limits.get('loras[].weight'));
      applyLimits(element, contract);
    },
    showUsedSeed: (used) => seed.showUsed(used),
    read: () => ({
      negative: negative.control.value,
      styles: styles.selected(),
      performance: performanceRadios.find((r) => r.checked)?.value ?? DEFAULT_FORM.performance,
      aspectRatio: aspect.control.value,
      imageCount: Math.round(readNumber(imageCount.control, DEFAULT_FORM.imageCount)),
      ...seed.read(),
      ...debug.read(),
      model: model.control.value,
      refiner: refiner.control.value,
      refinerSwitch: readNumber(refinerSwitch.control, DEFAULT_FORM.refinerSwitch),
      loras: loras.read(),
      cfg: readNumber(cfg.control, DEFAULT_FORM.cfg),
      sharpness: readNumber(sharpness.control, DEFAULT_FORM.sharpness),
      sampler: sampler.control.value,
      scheduler: scheduler.control.value,
      format: format.control.value,
      preset,
    }),
    fill(patch) {
      const missing: string[] = [];
      if (patch.negative !== undefined) negative.control.value = patch.negative;
      if (patch.performance !== undefined) {
        const radio = performanceRadios.find((r) => r.value === patch.performance);
        if (radio === undefined) missing.push(`performance ${patch.performance}`);
        else radio.checked = true;
      }
      preset = patch.preset ?? '';
      if (patch.model !== undefined && patch.model !== '' && !choose(model.control, patch.model)) {
        missing.push(`model ${patch.model}`);
        // Left to the preset, so the server refuses it and names the command that fetches the model.
        if (preset !== '') model.control.value = '';
      }
      showSizes();
      if (patch.aspectRatio !== undefined && !choose(aspect.control, patch.aspectRatio)) {
        aspect.control.append(el('option', { value: patch.aspectRatio }, describeSize(patch.aspectRatio)));
        aspect.control.value = patch.aspectRatio;
      }
      if (patch.imageCount !== undefined) imageCount.control.value = String(patch.imageCount);
      if (patch.format !== undefined && !choose(format.control, patch.format)) missing.push(`format ${patch.format}`);
      seed.fill(patch);
      missing.push(...debug.fill(patch));
      if (patch.styles !== undefined) missing.push(...styles.select(patch.styles).map((s) => `style ${s}`));
      if (patch.refiner !== undefined && !choose(refiner.control, patch.refiner)) missing.push(`refiner ${patch.refiner}`);
      if (patch.refinerSwitch !== undefined) refinerSwitch.control.value = String(patch.refinerSwitch);
      if (patch.loras !== undefined) loras.fill(patch.loras);
      for (const [field, value] of [[cfg, patch.cfg], [sharpness, patch.sharpness]] as const) {
        if (value !== undefined) {
          field.control.value = String(value);
          field.control.dispatchEvent(new Event('input'));
        }
      }
      if (patch.sampler !== undefined && !choose(sampler.control, patch.sampler)) missing.push(`sampler ${patch.sampler}`);
      if (patch.scheduler !== undefined && !choose(scheduler.control, patch.scheduler)) missing.push(`scheduler ${patch.scheduler}`);
      return missing;
    },
  };
}
