/**
 * Describe in the Input Image panel: a describer type (Fooocus's Photograph or Art/Anime) and a button that asks
 * the server for a prompt for the input image (`POST /api/v1/describe`), fills the prompt with it and says which
 * describer wrote it. Errors (a describer not installed names its files) are shown beside the button.
 */
import { el } from '../dom.ts';
import { ApiError } from '../api-error.ts';

export const DESCRIBE_TYPE_LABELS = { photo: 'Photograph (BLIP caption)', anime: 'Art/Anime (WD14 tags)' } as const;
export type DescribeType = keyof typeof DESCRIBE_TYPE_LABELS;

export interface DescribeControl {
  element: HTMLElement;
  /** The describer a generation uses first when its prompt is empty ("Describe then generate"), or null. */
  readDescribeFirst(): DescribeType | null;
  fillDescribeFirst(type: DescribeType | null): void;
}

/** `describe` runs Describe on the current input image and puts the text into the prompt; it answers the text. */
export function createDescribeControl(describe: (type: DescribeType) => Promise<string>): DescribeControl {
  const type = el(
    'select',
    { name: 'describeType', 'aria-label': 'Describer' },
    ...(Object.keys(DESCRIBE_TYPE_LABELS) as DescribeType[]).map((t) => el('option', { value: t }, DESCRIBE_TYPE_LABELS[t])),
  );
  const button = el('button', { type: 'button', class: 'secondary', 'data-action': 'describe' }, 'Describe');
  const status = el('p', { class: 'hint describe-status', role: 'status', 'aria-live': 'polite' });
  const first = el('input', { type: 'checkbox', name: 'describeFirst' });
  const firstLabel = el('label', { class: 'check' }, first, ' Describe then generate: with an empty prompt, Generate describes the image first and uses that as the prompt');
  const element = el('div', { class: 'describe-control' }, type, button, firstLabel, status);
  button.addEventListener('click', () => {
    const chosen = type.value as DescribeType;
    button.disabled = true;
    status.textContent = `Describing with ${DESCRIBE_TYPE_LABELS[chosen]}…`;
    describe(chosen)
      .then(() => (status.textContent = `Prompt written by ${DESCRIBE_TYPE_LABELS[chosen]}.`))
      .catch((err: unknown) => (status.textContent = err instanceof ApiError || err instanceof Error ? err.message : 'Describe failed.'))
      .finally(() => (button.disabled = false));
  });
  return {
    element,
    readDescribeFirst: () => (first.checked ? (type.value as DescribeType) : null),
    fillDescribeFirst(chosen) {
      first.checked = chosen !== null;
      if (chosen !== null) type.value = chosen;
    },
  };
}
