/**
 * The Metadata tab: everything an image's metadata says (like Fooocus's Metadata tab): the tool that wrote it,
 * the settings each generation in it records in this project's terms, what has no equivalent here, and every raw
 * field. "Apply to the form" fills the Create form with the chosen settings. All file text becomes text nodes.
 */
import type { ImageMetadataReport } from '../../engine/output/image-metadata-report.ts';
import type { SettingsCandidate } from '../../engine/output/imported-settings.ts';
import { el, replace, uniqueId } from '../dom.ts';

export interface MetadataView {
  element: HTMLElement;
  show(report: ImageMetadataReport, fileName: string): void;
}

/** `apply` gets the settings the user chose (the first, or the sampler picked from a ComfyUI graph). */
export function createMetadataView(picker: HTMLElement, apply: (candidate: SettingsCandidate, fileName: string) => void): MetadataView {
  const body = el('div', { class: 'metadata-body' }, el('p', {}, 'Drop an image anywhere on the page, or pick one, to see the settings it records.'));
  const element = el('section', { class: 'metadata-view', 'aria-label': 'Image metadata' }, el('div', { class: 'tools' }, picker), body);

  function show(report: ImageMetadataReport, fileName: string): void {
    const heading = el('h2', {}, `Metadata of ${fileName}`);
    if (report.scheme === 'none') return replace(body, heading, el('p', {}, `This ${report.format.toUpperCase()} file carries no metadata.`));
    const summary =
      report.scheme === 'unknown'
        ? el('p', { class: 'metadata-unknown' }, 'Unknown metadata: no reader recognises these fields, so nothing was applied.')
        : el('p', {}, `Written by ${report.tool} (${report.scheme} metadata, from ${report.source}, ${report.format.toUpperCase()}).`);
    const parts: Node[] = [heading, summary];
    if (report.candidates.length > 0) parts.push(renderCandidates(report.candidates, (candidate) => apply(candidate, fileName)));
    parts.push(el('details', { class: 'parameters metadata-fields' }, el('summary', {}, `All fields (${report.fields.length})`), definitionList(report.fields.map((f) => [f.key, f.value]))));
    replace(body, ...parts);
  }

  return { element, show };
}

function renderCandidates(candidates: SettingsCandidate[], apply: (candidate: SettingsCandidate) => void): HTMLElement {
  const selectId = uniqueId('metadata-candidate');
  const select = el('select', { id: selectId }, ...candidates.map((c, i) => el('option', { value: i }, c.label)));
  const details = el('div', { class: 'metadata-candidate' });
  const chosen = (): SettingsCandidate => candidates[Number(select.value)] ?? candidates[0]!;
  const render = (): void => {
    const c = chosen();
    const settings = Object.entries(c.settings).map(([key, value]): [string, string] => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
    replace(
      details,
      el('h3', {}, 'Settings'),
      settings.length > 0 ? definitionList(settings) : el('p', {}, 'None that this project can use.'),
      c.notApplied.length > 0 ? el('h3', {}, 'Not applied') : null,
      c.notApplied.length > 0 ? definitionList(c.notApplied.map((f) => [f.key, `${f.value} (${f.reason})`])) : null,
    );
  };
  select.addEventListener('change', render);
  render();
  const button = el('button', { type: 'button' }, 'Apply to the form');
  button.addEventListener('click', () => apply(chosen()));
  const choose = candidates.length > 1 ? el('p', {}, el('label', { for: selectId }, 'Generation '), select) : null;
  return el('div', { class: 'parameters' }, choose, details, button);
}

function definitionList(rows: [string, string][]): HTMLElement {
  return el('dl', {}, ...rows.flatMap(([key, value]) => [el('dt', {}, key), el('dd', {}, value)]));
}
