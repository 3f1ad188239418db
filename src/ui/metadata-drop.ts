/**
 * Drop an image anywhere on the page (or pick one with the "Load parameters from an image" button) to read the
 * generation metadata embedded in it: PNG, JPEG or WebP, from any tool the engine's reader knows. The file is read
 * in the browser; nothing is uploaded.
 */
import type { ImageMetadataReport } from '../engine/output/image-metadata-report.ts';
import { el, uniqueId } from './dom.ts';
import { readImageFileReport } from './image-parameters.ts';

export interface ParameterDropHandlers {
  /** `fileName` is the user's file name: render it as text. */
  onReport(report: ImageMetadataReport, fileName: string): void;
  onError(error: unknown, fileName: string): void;
}

async function readFile(file: File, handlers: ParameterDropHandlers): Promise<void> {
  try {
    handlers.onReport(await readImageFileReport(file), file.name);
  } catch (error) {
    handlers.onError(error, file.name);
  }
}

export function attachParameterDrop(target: HTMLElement, handlers: ParameterDropHandlers): void {
  const hasFiles = (event: DragEvent): boolean => event.dataTransfer?.types.includes('Files') ?? false;
  target.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    target.classList.add('dropping');
  });
  target.addEventListener('dragleave', (event) => {
    if (event.relatedTarget === null) target.classList.remove('dropping');
  });
  target.addEventListener('drop', (event) => {
    target.classList.remove('dropping');
    const file = event.dataTransfer?.files[0];
    if (file === undefined) return;
    event.preventDefault();
    void readFile(file, handlers);
  });
}

/** A labelled file picker doing the same as a drop, for keyboards and phones. */
export function createParameterPicker(handlers: ParameterDropHandlers, label = 'Load parameters from an image'): HTMLElement {
  const id = uniqueId('parameters-file');
  const input = el('input', { type: 'file', id, accept: 'image/png,image/jpeg,image/webp', class: 'visually-hidden' });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (file !== undefined) void readFile(file, handlers);
  });
  return el('span', { class: 'file-picker' }, input, el('label', { for: id, class: 'button secondary' }, label));
}
