/**
 * The studio page: composition root of the browser code. It wires the API client, the run state and the views,
 * and is the only module that touches `document` at load.
 *
 * Why no framework: the page is a handful of views (prompt, advanced settings, gallery, history, sign-in) whose
 * state is one run and one form, which plain DOM calls and a 30-line observable store handle. Without one there is
 * no build chain beyond the project's own `tsc`, no third-party code to audit or keep patched in a tool whose whole
 * point is running on people's own machines, and nothing that needs inline scripts, inline styles or eval, so the
 * page runs under a strict Content-Security-Policy (`script-src 'self'`, `style-src 'self'`). dom.ts keeps the one
 * rule a framework would otherwise enforce: user text only ever becomes text nodes.
 */
import { createApiClient } from './api-client.ts';
import { ApiError } from './api-error.ts';
import { el, replace, setAttrs } from './dom.ts';
import { watchJobEvents } from './events.ts';
import { buildGenerateRequest, normalizeSeed, patchFromPreset, patchFromRequest, type FormPatch } from './form-values.ts';
import { describeRestore, patchFromSettings } from './image-parameters.ts';
import { IDLE_RUN, isActive, reduceRun, type RunAction, type RunState } from './job-run.ts';
import { listImagePromptNotRestored } from './image-prompt-values.ts';
import { listInputImageNotRestored } from './input-image-values.ts';
import { attachParameterDrop, createParameterPicker, type ParameterDropHandlers } from './metadata-drop.ts';
import { createStore } from './state.ts';
import type { ImageResult } from './api-types.ts';
import type { SettingsCandidate } from '../engine/output/imported-settings.ts';
import type { GenerateContract } from './request-contract.ts';
import { createAdvancedPanel } from './views/advanced-panel.ts';
import { createHistoryView } from './views/history.ts';
import { createImageViewer } from './views/image-viewer.ts';
import { createImagePromptPanel } from './views/image-prompt-panel.ts';
import { createInputImagePanel } from './views/input-image.ts';
import { createLoginView } from './views/login.ts';
import { createMetadataView } from './views/metadata-view.ts';
import { renderModelNotice } from './views/model-notice.ts';
import { createPresetPicker } from './views/preset-picker.ts';
import { createPromptPanel } from './views/prompt-panel.ts';
import { createResultView } from './views/result-view.ts';

const api = createApiClient((input, init) => fetch(input, init));
const run = createStore<RunState>(IDLE_RUN);
const dispatch = (action: RunAction): void => run.set((state) => reduceRun(state, action));
let stopWatching: (() => void) | null = null;

const message = el('p', { class: 'message', role: 'alert', hidden: true });
const modelNotice = el('section', { class: 'notice', 'aria-label': 'About the models', hidden: true });
const promptPanel = createPromptPanel({ generate: () => void generate(), stop: () => void stop(false), skip: () => void stop(true) });
const advanced = createAdvancedPanel();
let contract: GenerateContract | null = null;
const presetPicker = createPresetPicker((preset) => fillForm(patchFromPreset(preset, contract?.performanceModes ?? []), `preset ${preset.label}`));
const viewer = createImageViewer((result) => void useAsInput(result));
const results = createResultView((list, index) => viewer.open(list, index));
const inputImage = createInputImagePanel(
  (file) => void uploadInput(file, file.name, URL.createObjectURL(file)),
  async (image, type) => {
    const { text } = await api.describeImage(image, type);
    promptPanel.prompt.value = text;
    return text;
  },
);
const imagePrompts = createImagePromptPanel(
  (index, file) => void uploadImagePrompt(index, file),
  (image, type) => api.previewControlMap(image, type),
  (error) => reportError(error),
);
const history = createHistoryView(api, {
  open: (list, index) => viewer.open(list, index),
  reuse: (job, image) => {
    fillForm(patchFromRequest(job.request, image?.seed ?? null), 'a history entry');
    showView('create');
  },
  report: (error) => reportError(error),
});
const login = createLoginView(api, () => void loadCatalog());

const drop: ParameterDropHandlers = {
  onReport: (report, fileName) => {
    metadata.show(report, fileName);
    const first = report.candidates[0];
    if (first !== undefined) return applySettings(first, fileName);
    showView('metadata');
    showMessage(
      report.scheme === 'none'
        ? `${fileName}: this image carries no metadata; nothing restored.`
        : `${fileName}: unknown metadata, nothing restored; its fields are in the Metadata tab.`,
    );
  },
  onError: (error: unknown, fileName: string) => showMessage(`${fileName}: ${error instanceof Error ? error.message : 'could not be read.'}`),
};
const metadata = createMetadataView(createParameterPicker(drop, 'Read metadata from an image'), (candidate, fileName) => {
  applySettings(candidate, fileName);
  showView('create');
});

/** Fills the form from one generation's settings and says which fields were restored and which not. */
function applySettings(candidate: SettingsCandidate, fileName: string): void {
  const { patch, notRestored } = patchFromSettings(candidate.settings);
  if (patch.prompt !== undefined) promptPanel.prompt.value = patch.prompt;
  const missing = advanced.fill(patch);
  if (patch.inputImage !== undefined) inputImage.fill(patch.inputImage);
  if (patch.imagePrompts !== undefined) imagePrompts.fill(patch.imagePrompts);
  const where = candidate.label === 'parameters' ? fileName : `${fileName} (${candidate.label})`;
  showMessage(`Settings from ${where}: ${describeRestore(patch, missing, [...candidate.notApplied, ...notRestored])}.`);
}

const createView = el(
  'div',
  { class: 'create-view', id: 'create-view' },
  el(
    'div',
    { class: 'main-column' },
    results.canvas,
    promptPanel.element,
    results.strip,
    el('div', { class: 'tools' }, createParameterPicker(drop)),
    inputImage.element,
    imagePrompts.element,
  ),
  el('details', { class: 'advanced-toggle', open: true }, el('summary', {}, 'Advanced'), presetPicker.element, advanced.element),
);
const historyView = el('div', { class: 'history-view', id: 'history-view', hidden: true }, history.element);
const metadataView = el('div', { class: 'metadata-tab', id: 'metadata-view', hidden: true }, metadata.element);
const tabs = {
  create: el('button', { type: 'button', 'aria-controls': 'create-view', 'aria-pressed': 'true' }, 'Create'),
  history: el('button', { type: 'button', 'aria-controls': 'history-view', 'aria-pressed': 'false' }, 'History'),
  metadata: el('button', { type: 'button', 'aria-controls': 'metadata-view', 'aria-pressed': 'false' }, 'Metadata'),
};

function showView(view: 'create' | 'history' | 'metadata'): void {
  createView.hidden = view !== 'create';
  historyView.hidden = view !== 'history';
  metadataView.hidden = view !== 'metadata';
  for (const [name, tab] of Object.entries(tabs)) setAttrs(tab, { 'aria-pressed': String(view === name) });
  if (view === 'history') void history.reload();
}
tabs.create.addEventListener('click', () => showView('create'));
tabs.history.addEventListener('click', () => showView('history'));
tabs.metadata.addEventListener('click', () => showView('metadata'));

function showMessage(text: string): void {
  message.hidden = text === '';
  replace(message, text);
}

function clearInvalid(): void {
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) setAttrs(node, { 'aria-invalid': null });
}

/**
 * Marks the control a 400 names and focuses it: `admScalers.end` (or `/admScalers/end`) its own box, `loras[0].weight`
 * the LoRA list.
 */
function markInvalid(field: string): void {
  const path = field.replace(/^[/.]+/, '').replace(/\//g, '.');
  const head = path.split(/[.[]/)[0] ?? path;
  const controls = [...document.querySelectorAll<HTMLElement>('[data-field]')];
  const control = controls.find((node) => node.dataset.field === path) ?? controls.find((node) => node.dataset.field === head);
  if (control === undefined) return;
  setAttrs(control, { 'aria-invalid': 'true' });
  control.focus();
}

function reportError(error: unknown): void {
  if (error instanceof ApiError && error.needsLogin) {
    login.show();
    showMessage('Please sign in.');
    return;
  }
  showMessage(error instanceof Error ? error.message : 'Something went wrong.');
  if (error instanceof ApiError && error.field !== null) markInvalid(error.field);
}

function fillForm(patch: FormPatch, source: string): void {
  if (patch.prompt !== undefined) promptPanel.prompt.value = patch.prompt;
  const missing = advanced.fill(patch);
  if (patch.inputImage !== undefined) inputImage.fill(patch.inputImage);
  if (patch.imagePrompts !== undefined) imagePrompts.fill(patch.imagePrompts);
  const images = [...(patch.inputImage === undefined ? [] : listInputImageNotRestored(patch.inputImage)), ...(patch.imagePrompts === undefined ? [] : listImagePromptNotRestored())];
  const notRestored = [...missing.map((m) => `${m} (not available here)`), ...images.map((f) => `${f.key} (${f.reason})`)];
  showMessage(notRestored.length === 0 ? `Settings loaded from ${source}.` : `Settings loaded from ${source}; not restored: ${notRestored.join(', ')}.`);
}

async function generate(): Promise<void> {
  if (isActive(run.get())) return;
  clearInvalid();
  showMessage('');
  const values = { prompt: promptPanel.prompt.value, ...advanced.read(), ...inputImage.read(), imagePrompts: imagePrompts.read() };
  if (!values.randomSeed && normalizeSeed(values.seed) === null) {
    showMessage('The seed must be a whole number from 0 to 9223372036854775807, or tick Random.');
    markInvalid('seed');
    return;
  }
  dispatch({ type: 'submit' });
  try {
    if (values.inputImageId !== null && values.inputImage.tab === 'inpaint') {
      const mask = await inputImage.resolveMask((png) => api.uploadImage(png, 'mask'));
      if (mask === null && values.inputImage.outpaintSides.length === 0) {
        dispatch({ type: 'rejected', message: 'No mask drawn.' });
        showMessage('Draw over the area to repaint on the input image, or choose an outpaint direction.');
        markInvalid('inpaint.mask');
        return;
      }
      values.inputImage = { ...values.inputImage, maskImageId: mask };
    }
    const { id, position } = await api.generate(buildGenerateRequest(values, advanced.family(), contract?.fields));
    dispatch({ type: 'submitted', id, position });
    stopWatching?.();
    stopWatching = watchJobEvents(api.eventsUrl(id), dispatch, { onLost: () => dispatch({ type: 'connection-lost' }) });
  } catch (error) {
    dispatch({ type: 'rejected', message: error instanceof Error ? error.message : 'The request was refused.' });
    reportError(error);
  }
}

async function stop(skipOnly: boolean): Promise<void> {
  const { jobId } = run.get();
  if (jobId === null) return;
  if (!skipOnly) dispatch({ type: 'stop-requested' });
  try {
    await (skipOnly ? api.skipImage(jobId) : api.cancelJob(jobId));
  } catch (error) {
    reportError(error);
  }
}

/** The viewer's "Use as input": the result goes back to the server as an upload, and the form takes its size. */
async function useAsInput(result: ImageResult): Promise<void> {
  try {
    const response = await fetch(result.url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`The image could not be read (the server answered ${response.status}).`);
    const blob = await response.blob();
    const size = await readImageSize(blob);
    // An input image must have the size of the images asked for.
    advanced.fill({ aspectRatio: `${size.width}*${size.height}`, width: null, height: null });
    await uploadInput(blob, `image with seed ${result.seed ?? 'unknown'} (${size.width}×${size.height})`, URL.createObjectURL(blob));
  } catch (error) {
    reportError(error);
  }
}

async function readImageSize(blob: Blob): Promise<{ width: number; height: number }> {
  const bitmap = await createImageBitmap(blob);
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return size;
}

async function uploadInput(image: Blob, label: string, preview: string): Promise<void> {
  try {
    const id = await api.uploadImage(image);
    inputImage.set(id, preview, label, image);
    showMessage(`Input image set: ${label}.`);
  } catch (error) {
    URL.revokeObjectURL(preview);
    reportError(error);
  }
}

async function uploadImagePrompt(index: number, image: File): Promise<void> {
  try {
    imagePrompts.setImage(index, await api.uploadImage(image), image, image.name);
  } catch (error) {
    reportError(error);
  }
}

async function loadCatalog(): Promise<void> {
  try {
    const [models, styles, ratios, presets, generateContract] = await Promise.all([
      api.listModels(),
      api.listStyles(),
      api.listAspectRatios(),
      api.listPresets().catch(() => []),
      api.getGenerateContract(),
    ]);
    contract = generateContract;
    advanced.setContract(generateContract);
    inputImage.setContract(generateContract);
    imagePrompts.setContract(generateContract);
    inputImage.setModels(models);
    advanced.setCatalog({ models, styles, ratios });
    presetPicker.setPresets(presets);
    renderModelNotice(modelNotice, models);
    showMessage('');
  } catch (error) {
    reportError(error);
  }
}

function start(): void {
  const root = document.getElementById('app') ?? document.body;
  replace(
    root,
    el('header', { class: 'top' }, el('h1', {}, 'Fooocus-TS'), el('nav', { 'aria-label': 'Views' }, tabs.create, tabs.history, tabs.metadata)),
    message,
    login.element,
    modelNotice,
    el('main', {}, createView, historyView, metadataView),
    viewer.element,
  );
  attachParameterDrop(document.body, drop);
  run.subscribe((state) => {
    promptPanel.render(state);
    results.render(state);
    const used = state.results[0]?.seed;
    if (used !== undefined && used !== null) advanced.showUsedSeed(used);
  });
  void loadCatalog();
}

start();
