/**
 * The prompt box with Generate / Stop / Skip, and the progress line under it: a progress bar, and step, image and
 * ETA as text. The live preview is drawn on the result canvas above (result-view.ts).
 */
import { el, setText } from '../dom.ts';
import { isActive, type RunState } from '../job-run.ts';

export interface PromptPanel {
  element: HTMLElement;
  prompt: HTMLTextAreaElement;
  render(state: RunState): void;
}

export interface PromptActions {
  generate(): void;
  stop(): void;
  skip(): void;
}

export function createPromptPanel(actions: PromptActions): PromptPanel {
  const prompt = el('textarea', {
    id: 'prompt',
    rows: 3,
    'data-field': 'prompt',
    placeholder: 'Describe the image. Ctrl+Enter generates.',
    'aria-keyshortcuts': 'Control+Enter',
  });
  prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      actions.generate();
    }
  });
  const generate = el('button', { type: 'button', class: 'primary' }, 'Generate');
  const stop = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Stop');
  const skip = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Skip');
  generate.addEventListener('click', () => actions.generate());
  stop.addEventListener('click', () => actions.stop());
  skip.addEventListener('click', () => actions.skip());

  const bar = el('progress', { max: 1, value: 0, 'aria-label': 'Generation progress' });
  const status = el('p', { class: 'run-status', role: 'status', 'aria-live': 'polite' });
  const progress = el('div', { class: 'progress', hidden: true }, bar, status);

  const element = el(
    'section',
    { class: 'prompt-panel', 'aria-label': 'Prompt' },
    el('label', { for: 'prompt', class: 'visually-hidden' }, 'Prompt'),
    el('div', { class: 'prompt-row' }, prompt, el('div', { class: 'run-buttons' }, generate, stop, skip)),
    progress,
  );

  return {
    element,
    prompt,
    render(state) {
      const active = isActive(state);
      generate.hidden = active;
      stop.hidden = !active;
      skip.hidden = !active || state.phase !== 'running' || state.images < 2;
      stop.disabled = state.stopping || state.jobId === null;
      skip.disabled = state.stopping;
      progress.hidden = state.phase === 'idle';
      const fraction = state.steps > 0 && state.images > 0 ? ((state.image - 1) * state.steps + state.step) / (state.steps * state.images) : 0;
      bar.value = state.phase === 'done' ? 1 : Math.min(1, Math.max(0, fraction));
      setText(status, describeRun(state));
    },
  };
}

export function describeRun(state: RunState): string {
  switch (state.phase) {
    case 'idle':
      return '';
    case 'submitting':
      return 'Sending…';
    case 'queued':
      if (state.waitingFor !== null) return `Waiting: ${state.waitingFor}…`;
      return state.position !== null && state.position > 1 ? `Waiting in line (position ${state.position})…` : 'Starting soon…';
    case 'running': {
      const stopping = state.stopping ? 'Stopping… ' : '';
      // The job's message says what it does besides sampling (describing, loading, an Enhance tab), in its words.
      const said = state.message === null ? null : state.message.charAt(0).toUpperCase() + state.message.slice(1);
      if (state.steps === 0) return said === null ? 'Loading models…' : `${stopping}${said}`;
      const images = state.images > 1 ? `, image ${state.image} of ${state.images}` : '';
      const eta = state.etaSeconds !== null ? `, about ${formatSeconds(state.etaSeconds)} left` : '';
      const message = said === null ? '' : `${said}: `;
      return `${stopping}${message}Step ${state.step} of ${state.steps}${images}${eta}`;
    }
    case 'done':
      return `Done: ${state.results.length} image${state.results.length === 1 ? '' : 's'}.`;
    case 'failed':
      return `Failed: ${state.error ?? 'unknown error'}`;
    case 'cancelled':
      return `Stopped${state.results.length > 0 ? ` after ${state.results.length} image${state.results.length === 1 ? '' : 's'}` : ''}.`;
  }
}

function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
