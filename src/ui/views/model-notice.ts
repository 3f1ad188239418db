/**
 * Shown when the only checkpoint is the built-in demo model, whose random weights make noise: how to get a real one.
 */
import type { ModelInfo } from '../api-types.ts';
import { formatCliCommand } from '../cli-invocation.ts';
import { el, replace } from '../dom.ts';

export function onlyDemoModels(models: ModelInfo[]): boolean {
  const checkpoints = models.filter((m) => m.kind === 'checkpoint' || m.kind === 'refiner');
  return checkpoints.length > 0 && checkpoints.every((m) => m.demo || /\bdemo\b/i.test(m.name));
}

export function renderModelNotice(target: HTMLElement, models: ModelInfo[]): void {
  target.hidden = !onlyDemoModels(models);
  if (target.hidden) return replace(target);
  replace(
    target,
    el('h2', {}, 'Only the demo model is installed'),
    el('p', {}, 'The demo checkpoint has random weights: it shows that the pipeline works, but its pictures are noise. Add a real Stable Diffusion XL or 1.5 checkpoint on the server, then reload this page:'),
    el(
      'ul',
      {},
      el('li', {}, 'a file you already have: ', el('code', {}, formatCliCommand('models import <file>'))),
      el('li', {}, 'from the catalog: ', el('code', {}, formatCliCommand('models pull <id>'))),
    ),
  );
}
