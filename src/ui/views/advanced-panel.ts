/**
 * The advanced settings, Fooocus's right-hand column: performance, size, count, format, negative prompt, seed,
 * styles, models, LoRAs and sampling. `read` returns the form's values, `fill` applies a FormPatch and says what
 * it could not apply (a model or style this server does not have).
 */
import { OUTPUT_FORMATS, PERFORMANCE_MODES, type AspectRatios, type ModelInfo, type OutputFormat, type Performance, type StyleInfo } from '../api-types.ts';
import { el, setOptions, uniqueId } from '../dom.ts';
import { DEFAULT_FORM, normalizeSeed, type FormPatch, type FormValues } from '../form-values.ts';
import { SAMPLERS, SCHEDULERS } from '../sampling-options.ts';
import { describeSize } from './aspect-labels.ts';
import { labelled, numberInput, readNumber, selectInput, sliderField } from './form-fields.ts';
import { createLoraList } from './lora-list.ts';
import { createStylePicker } from './style-picker.ts';

export interface AdvancedPanel {
  element: HTMLElement;
  setCatalog(catalog: { models: ModelInfo[]; styles: StyleInfo[]; ratios: AspectRatios }): void;
  read(): Omit<FormValues, 'prompt'>;
  fill(patch: FormPatch): string[];
  /** Family of the chosen checkpoint (`sdxl`, `sd15`, or '' when unknown). */
  family(): string;
}

const FAMILY_FALLBACK_SD15 = ['512*512', '512*768', '768*512', '448*576', '576*448', '384*640', '640*384'];

export function createAdvancedPanel(): AdvancedPanel {
  // Performance
  const performanceName = uniqueId('performance');
  const performanceRadios = PERFORMANCE_MODES.map((mode) => {
    const id = uniqueId('performance');
    const radio = el('input', { type: 'radio', name: performanceName, id, value: mode, checked: mode === DEFAULT_FORM.performance });
    return { radio, row: el('span', { class: 'choice' }, radio, el('label', { for: id }, mode)) };
  });
  const performance = el('fieldset', { class: 'performance', 'data-field': 'performance' }, el('legend', {}, 'Performance'), ...performanceRadios.map((p) => p.row));

  const aspect = labelled('Aspect ratio', selectInput('aspectRatio'));
  const imageCount = labelled('Image number', numberInput('imageCount', { min: 1, max: 32, step: 1, value: DEFAULT_FORM.imageCount }));
  const format = labelled('Output format', selectInput('format'));
  setOptions(format.control, OUTPUT_FORMATS.map((f) => ({ value: f, label: f.toUpperCase() })));
  const negative = labelled('Negative prompt', el('textarea', { rows: 2, 'data-field': 'negative', placeholder: 'What to keep out of the image' }));

  const seedInput = el('input', { type: 'text', inputmode: 'numeric', pattern: '\\d{1,19}', 'data-field': 'seed', value: DEFAULT_FORM.seed });
  const seed = labelled('Seed', seedInput, 'A whole number from 0 to 9223372036854775807.');
  const randomId = uniqueId('random-seed');
  const random = el('input', { type: 'checkbox', id: randomId, checked: DEFAULT_FORM.randomSeed });
  const syncSeed = (): void => void (seedInput.disabled = random.checked);
  random.addEventListener('change', syncSeed);
  syncSeed();
  seed.row.append(el('span', { class: 'choice' }, random, el('label', { for: randomId }, 'Random')));

  const styles = createStylePicker();
  const model = labelled('Base model', selectInput('model'));
  const refiner = labelled('Refiner', selectInput('refiner'));
  const refinerSwitch = labelled('Refiner switch at', numberInput('refinerSwitch', { min: 0.1, max: 1, step: 0.05, value: DEFAULT_FORM.refinerSwitch }));
  const loras = createLoraList();
  const cfg = sliderField('Guidance scale', 'cfg', { min: 1, max: 30, step: 0.5, value: DEFAULT_FORM.cfg });
  const sharpness = sliderField('Image sharpness', 'sharpness', { min: 0, max: 30, step: 0.5, value: DEFAULT_FORM.sharpness });
  const sampler = labelled('Sampler', selectInput('sampler'));
  setOptions(sampler.control, SAMPLERS.map((s) => ({ value: s.id, label: `${s.label} (${s.id})` })));
  sampler.control.value = DEFAULT_FORM.sampler;
  const scheduler = labelled('Scheduler', selectInput('scheduler'));
  setOptions(scheduler.control, SCHEDULERS.map((s) => ({ value: s.id, label: s.label })));
  scheduler.control.value = DEFAULT_FORM.scheduler;

  const element = el(
    'div',
    { class: 'advanced' },
    el('section', { 'aria-label': 'Setting' }, performance, aspect.row, imageCount.row, format.row, negative.row, seed.row),
    el('section', { 'aria-label': 'Styles' }, styles.element),
    el('section', { 'aria-label': 'Models' }, model.row, refiner.row, refinerSwitch.row, loras.element),
    el('section', { 'aria-label': 'Sampling' }, cfg.row, sharpness.row, sampler.row, scheduler.row),
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
      const checkpoints = models.filter((m) => m.kind !== 'lora');
      setOptions(model.control, checkpoints.map((m) => ({ value: m.name, label: m.demo ? `${m.name} (demo)` : m.name })));
      setOptions(refiner.control, [{ value: '', label: 'None' }, ...checkpoints.filter((m) => !m.demo).map((m) => ({ value: m.name, label: m.name }))]);
      loras.setNames(models.filter((m) => m.kind === 'lora').map((m) => m.name));
      styles.setStyles(catalog.styles);
      styles.select(DEFAULT_FORM.styles.filter((name) => catalog.styles.some((s) => s.name === name)));
      showSizes();
    },
    read: () => ({
      negative: negative.control.value,
      styles: styles.selected(),
      performance: (performanceRadios.find((p) => p.radio.checked)?.radio.value ?? DEFAULT_FORM.performance) as Performance,
      aspectRatio: aspect.control.value,
      imageCount: Math.round(readNumber(imageCount.control, DEFAULT_FORM.imageCount)),
      seed: seedInput.value,
      randomSeed: random.checked,
      model: model.control.value,
      refiner: refiner.control.value,
      refinerSwitch: readNumber(refinerSwitch.control, DEFAULT_FORM.refinerSwitch),
      loras: loras.read(),
      cfg: readNumber(cfg.control, DEFAULT_FORM.cfg),
      sharpness: readNumber(sharpness.control, DEFAULT_FORM.sharpness),
      sampler: sampler.control.value,
      scheduler: scheduler.control.value,
      format: format.control.value as OutputFormat,
    }),
    fill(patch) {
      const missing: string[] = [];
      if (patch.negative !== undefined) negative.control.value = patch.negative;
      if (patch.performance !== undefined) for (const p of performanceRadios) p.radio.checked = p.radio.value === patch.performance;
      if (patch.model !== undefined && patch.model !== '' && !choose(model.control, patch.model)) missing.push(`model ${patch.model}`);
      showSizes();
      if (patch.aspectRatio !== undefined && !choose(aspect.control, patch.aspectRatio)) {
        aspect.control.append(el('option', { value: patch.aspectRatio }, describeSize(patch.aspectRatio)));
        aspect.control.value = patch.aspectRatio;
      }
      if (patch.imageCount !== undefined) imageCount.control.value = String(patch.imageCount);
      if (patch.format !== undefined) format.control.value = patch.format;
      if (patch.seed !== undefined && normalizeSeed(patch.seed) !== null) seedInput.value = patch.seed;
      if (patch.randomSeed !== undefined) random.checked = patch.randomSeed;
      syncSeed();
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
