/**
 * The page in a real browser: Playwright drives Debian's Chromium against the real server, studio and demo
 * model on 127.0.0.1. Type a prompt, generate, watch the progress bar and preview move and the result arrive on
 * the large canvas, open it in the viewer, use it as the input image of a run set through the developer controls,
 * reuse it from the history; a markup-looking prompt stays text everywhere it is shown (prompt box, history,
 * the parameters read back from the image file) and runs nothing. Screenshots of each state go to
 * test-artifacts/screenshots/ (kept by CI as artifacts), plus one of any test that fails.
 *
 * Chromium comes from Debian (`.ci/run` installs it); without it the test is skipped locally with the install
 * command, and fails under CI, so CI cannot pass without running it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { parseGenerationMetadata } from '../../src/engine/output/generation-metadata.ts';
import { readPngTextChunks } from '../../src/engine/output/png-text.ts';
import type { RunningServer } from '../../src/server/serve.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { writeTinyVae } from '../fixtures/checkpoints.ts';
import { SCREENSHOTS, skipWithoutChromium, startBrowserStudio, type BrowserStudio } from './browser-studio.ts';

const XSS = '<img src=x onerror=alert(1)>';
const PROMPT = 'a lighthouse on a cliff at dusk';
/** Speed's 30 steps take a minute on two cores even with the demo model; the test sets the page's Steps box. */
const STEPS = 8;
const HARBOUR = 'a harbour at dawn, two boats';
/** A VAE file in the store, which the developer controls offer besides the model's own. */
const VAE = 'tiny-vae-sd15-latent4-seed7.safetensors';

/** Records, inside the page, every way injected markup could announce itself, even when the CSP blocks it. */
function installInjectionProbe(): void {
  const probe: string[] = [];
  (window as unknown as { injectionProbe: string[] }).injectionProbe = probe;
  for (const name of ['alert', 'confirm', 'prompt'] as const) {
    const original = window[name].bind(window) as (...args: unknown[]) => unknown;
    (window as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      probe.push(`${name}(${args.map(String).join(', ')})`);
      return original(...args);
    };
  }
  // An inline handler like onerror=... is refused by the Content-Security-Policy: the refusal is the sign it got in.
  document.addEventListener('securitypolicyviolation', (event) => probe.push(`csp: ${event.violatedDirective} ${event.sourceFile}:${event.lineNumber}`));
}

describe('the studio page in Chromium', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let app: BrowserStudio | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  const dialogs: string[] = [];
  let pageErrors: string[] = [];
  let sentBodies: Record<string, unknown>[] = [];

  before(async () => {
    app = await startBrowserStudio({
      name: 'browser',
      prepare: async (created, folder) => {
        await importModel(created.store, await writeTinyVae(folder, 'sd15'), { kind: 'vae' });
      },
    });
    ({ server, page, pageErrors, sentBodies } = app);
    await page.addInitScript(installInjectionProbe);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  after(async () => {
    await app?.close();
  });

  /** The whole page, or only the window (a modal dialog covers the window, not the whole page). */
  const shot = async (name: string, fullPage = true): Promise<void> => {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
  };
  /** A test that leaves a screenshot of the page when it fails. */
  const pageTest = (name: string, body: () => Promise<void>): void => {
    test(name, async () => {
      try {
        await body();
      } catch (error) {
        if (app !== undefined) await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
        throw error;
      }
    });
  };
  const promptBox = () => page.getByRole('textbox', { name: 'Prompt', exact: true });
  const runStatus = () => page.getByRole('status');

  const debugPanel = () => page.locator('details.debug-panel');
  const openDebugPanel = async (): Promise<void> => {
    if ((await debugPanel().getAttribute('open')) === null) await debugPanel().locator('summary').click();
  };

  /** The smallest size the page offers for the demo model, one image, the test's step count. */
  const prepareForm = async (prompt: string): Promise<string> => {
    await page.getByRole('button', { name: 'Create' }).click();
    await promptBox().fill(prompt);
    await page.getByLabel('Image number').fill('1');
    await openDebugPanel();
    await page.getByLabel('Steps', { exact: true }).fill(String(STEPS));
    const aspect = page.getByLabel('Aspect ratio');
    const options = await aspect.locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
    const pixels = (size: string): number => size.split('*').map(Number).reduce((a, b) => a * b, 1);
    const smallest = [...options].sort((a, b) => pixels(a) - pixels(b))[0];
    assert.ok(smallest !== undefined, 'the page offers sizes for the demo model');
    await aspect.selectOption(smallest);
    return smallest;
  };

  const expectNoInjection = async (where: string): Promise<void> => {
    assert.equal(await page.locator('img[src="x"], [onerror]').count(), 0, `${where}: an element was built from the prompt`);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { injectionProbe: string[] }).injectionProbe), [], `${where}: injected markup announced itself`);
    assert.deepEqual(dialogs, [], `${where}: a dialog opened`);
    assert.deepEqual(pageErrors, [], `${where}: a script error on the page`);
  };

  const viewer = () => page.getByRole('dialog', { name: 'Image viewer' });
  const viewerCaption = () => viewer().locator('.viewer-caption');

  pageTest('opens with the demo model and says how to get a real one; the seed box is empty while Random is ticked', async () => {
    await page.goto(`${server!.url}/`);
    await page.getByRole('heading', { name: 'Fooocus-TS' }).waitFor();
    const notice = page.getByRole('region', { name: 'About the models' });
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? '', /demo/i);
    assert.match((await notice.textContent()) ?? '', /npm run fooocus -- models pull/);
    const seed = page.getByLabel('Seed', { exact: true });
    assert.equal(await page.getByLabel('Random', { exact: true }).isChecked(), true);
    assert.equal(await seed.inputValue(), '', 'no made-up seed 0 while Random is ticked');
    assert.equal(await seed.getAttribute('placeholder'), 'Random');
    const favicon = await page.request.get(`${server!.url}/favicon.ico`);
    assert.equal(favicon.status(), 200);
    assert.equal(favicon.headers()['content-type'], 'image/x-icon');
    await shot('01-start');
  });

  pageTest('shows the developer controls with the bounds the API schema states, and modes from the schema', async () => {
    const doc = (await (await page.request.get(`${server!.url}/api/openapi.json`)).json()) as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>> } }> } } }>;
    };
    const properties = doc.paths['/api/v1/generate']!.post.requestBody.content['application/json']!.schema.properties;
    const modes = await page.locator('fieldset.performance input[type="radio"]').evaluateAll((nodes) => nodes.map((n) => (n as HTMLInputElement).value));
    assert.deepEqual(modes, properties.performance!.enum, 'the performance choices are the schema\'s enum');
    await openDebugPanel();
    const controls: [string, string][] = [
      ['Steps', 'steps'],
      ['Width', 'width'],
      ['Height', 'height'],
      ['Adaptive CFG', 'adaptiveCfg'],
      ['ADM positive scale', 'admScalers.positive'],
      ['ADM negative scale', 'admScalers.negative'],
      ['ADM guidance end', 'admScalers.end'],
      ['CLIP skip', 'clipSkip'],
    ];
    for (const [label, field] of controls) {
      const input = page.getByLabel(label, { exact: true });
      assert.ok(await input.isVisible(), `${label} is shown`);
      const [top, inner] = field.split('.') as [string, string | undefined];
      const schema = (inner === undefined ? properties[top] : (properties[top]!.properties as Record<string, Record<string, unknown>>)[inner])!;
      assert.equal(await input.getAttribute('min'), String(schema.minimum ?? schema.exclusiveMinimum), `${label}: the schema's minimum`);
      assert.equal(await input.getAttribute('max'), String(schema.maximum), `${label}: the schema's maximum`);
    }
    assert.ok(await page.getByLabel('Same seed for every image (no seed increment)').isVisible());
    const schemes = await page.getByLabel('Metadata scheme').locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
    assert.deepEqual(schemes, properties.metadataScheme!.enum);
    const methods = await page.getByLabel('Refiner switch method').locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
    assert.deepEqual(methods, properties.refinerSwitchMethod!.enum);
    assert.equal(await page.getByLabel('Refiner switch method').inputValue(), 'joint', "Fooocus's default");
    const vaes = await page.getByLabel('VAE', { exact: true }).locator('option').evaluateAll((nodes) => nodes.map((n) => [(n as HTMLOptionElement).value, n.textContent]));
    assert.deepEqual(vaes, [['', 'Default (model)'], [VAE, VAE]], "the model's own VAE, then the server's VAE files");
    await debugPanel().scrollIntoViewIfNeeded();
    await shot('02-developer-controls');
  });

  pageTest('generates with the demo model: the progress bar and preview move, then the image fills the canvas', async () => {
    const size = await prepareForm(PROMPT);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const bar = page.getByRole('progressbar', { name: 'Generation progress' });
    await bar.waitFor({ state: 'visible' });
    await runStatus().filter({ hasText: /Step [1-9]\d* of \d+/ }).waitFor({ timeout: 120_000 });
    const first = await bar.evaluate((b) => (b as HTMLProgressElement).value);
    const preview = page.getByRole('img', { name: 'Live preview of the image being generated' });
    await preview.waitFor({ state: 'visible' });
    assert.match((await preview.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
    await shot('03-progress');
    // The bar moves on: a later step, or the end of the run.
    await page.waitForFunction((before) => (document.querySelector('progress') as HTMLProgressElement).value > before, first, { timeout: 120_000 });
    await runStatus().filter({ hasText: 'Done: 1 image.' }).waitFor({ timeout: 120_000 });
    assert.equal(await bar.evaluate((b) => (b as HTMLProgressElement).value), 1);
    assert.ok(await preview.isHidden(), 'the preview gives way to the result');

    const [width, height] = size.split('*').map(Number);
    const latest = page.getByRole('region', { name: 'Latest image' }).getByRole('img');
    await latest.waitFor();
    await page.waitForFunction(() => (document.querySelector('.canvas-open img') as HTMLImageElement | null)?.complete === true);
    assert.deepEqual(await latest.evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]), [width, height]);
    const column = (await page.locator('.main-column').boundingBox())!;
    const shown = (await latest.boundingBox())!;
    assert.ok(shown.width >= column.width * 0.6 || shown.height >= 500, `the latest image is shown large (${shown.width} x ${shown.height} in a ${column.width} px column)`);
    const canvasBox = (await page.getByRole('region', { name: 'Latest image' }).boundingBox())!;
    const promptBoxPosition = (await promptBox().boundingBox())!;
    assert.ok(canvasBox.y < promptBoxPosition.y, 'the canvas is above the prompt');
    const strip = page.getByRole('region', { name: 'Results' }).getByRole('img');
    assert.equal(await strip.count(), 1, 'the run\'s images as a strip');
    assert.ok((await strip.boundingBox())!.y > promptBoxPosition.y, 'the strip is below the prompt');
    const seed = await page.getByLabel('Seed', { exact: true }).inputValue();
    assert.match(seed, /^\d+$/, 'with Random ticked, the seed box shows the seed the run used');
    assert.equal(await page.getByLabel('Random', { exact: true }).isChecked(), true);
    assert.equal(sentBodies.length, 1);
    assert.equal(sentBodies[0]!.prompt, PROMPT, 'the page sent the typed prompt');
    assert.equal(sentBodies[0]!.steps, STEPS, 'and the Steps box');
    assert.equal(sentBodies[0]!.seed, undefined, 'a random seed is left to the server');
    await shot('04-result');
  });

  pageTest('the viewer shows the image at full size with download, closes on Escape, and "Use as input" sets the input image', async () => {
    const size = await page.getByLabel('Aspect ratio').inputValue();
    await page.getByRole('region', { name: 'Latest image' }).getByRole('button').click();
    await viewer().waitFor({ state: 'visible' });
    const image = viewer().getByRole('img');
    await page.waitForFunction(() => (document.querySelector('dialog .viewer-image') as HTMLImageElement).complete);
    assert.deepEqual(await image.evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]), size.split('*').map(Number));
    assert.match((await viewerCaption().textContent()) ?? '', /^Seed \d+ · image 1 of 1$/);
    const download = viewer().getByRole('link', { name: 'Download' });
    const href = await download.getAttribute('href');
    assert.equal(href, await image.getAttribute('src'));
    assert.notEqual(await download.getAttribute('download'), null, 'a download, not a navigation');
    assert.equal((await page.request.get(new URL(href!, server!.url).toString())).status(), 200);
    assert.equal(await viewer().getByRole('button', { name: /Next/ }).isDisabled(), true, 'one image: nothing to step to');
    await shot('05-viewer', false);
    await page.keyboard.press('Escape');
    await viewer().waitFor({ state: 'hidden' });

    await page.getByRole('region', { name: 'Results' }).getByRole('button').first().click();
    await viewer().waitFor({ state: 'visible' });
    await viewer().getByRole('button', { name: 'Use as input' }).click();
    await viewer().waitFor({ state: 'hidden' });
    await page.getByRole('alert').filter({ hasText: 'Input image set' }).waitFor();
    const input = page.getByRole('group', { name: 'Input image' });
    await input.getByRole('img').waitFor();
    assert.ok(await page.getByLabel('Denoise').isVisible());
    assert.equal(await page.getByLabel('Aspect ratio').inputValue(), size, 'the form takes the input image\'s size');
    await input.scrollIntoViewIfNeeded();
    await shot('06-input-image');
    await expectNoInjection('after the viewer');
  });

  pageTest('a run set through the developer controls: image to image, same seed for both images, A1111 metadata; the viewer steps with the arrow keys', async () => {
    await promptBox().fill(HARBOUR);
    await page.getByLabel('Image number').fill('2');
    await page.getByLabel('Random', { exact: true }).uncheck();
    await page.getByLabel('Seed', { exact: true }).fill('1234');
    await openDebugPanel();
    await page.getByLabel('Same seed for every image (no seed increment)').check();
    await page.getByLabel('Adaptive CFG', { exact: true }).fill('5');
    await page.getByLabel('CLIP skip', { exact: true }).fill('1');
    await page.getByLabel('ADM guidance end', { exact: true }).fill('0.5');
    await page.getByLabel('Metadata scheme').selectOption('a1111');
    await page.getByLabel('VAE', { exact: true }).selectOption(VAE);
    await page.getByLabel('Denoise').fill('0.6');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await runStatus().filter({ hasText: 'Done: 2 images.' }).waitFor({ timeout: 240_000 });

    const body = sentBodies[sentBodies.length - 1]!;
    assert.match(String(body.inputImageId), /^[A-Za-z0-9_-]+$/, 'the uploaded result is the input');
    assert.equal(body.denoise, 0.6);
    assert.equal(body.seed, '1234');
    assert.equal(body.seedIncrement, false);
    assert.equal(body.adaptiveCfg, 5);
    assert.equal(body.clipSkip, 1);
    assert.deepEqual(body.admScalers, { positive: 1.5, negative: 0.8, end: 0.5 });
    assert.equal(body.metadataScheme, 'a1111');
    assert.equal(body.vae, VAE);

    await page.getByRole('region', { name: 'Results' }).getByRole('button').first().click();
    await viewer().waitFor({ state: 'visible' });
    assert.equal(await viewerCaption().textContent(), 'Seed 1234 · image 1 of 2');
    await page.keyboard.press('ArrowRight');
    assert.equal(await viewerCaption().textContent(), 'Seed 1234 · image 2 of 2', 'no seed increment: the second image has the same seed');
    await page.waitForFunction(() => (document.querySelector('dialog .viewer-image') as HTMLImageElement).complete);
    await shot('07-viewer-run', false);
    const second = await viewer().getByRole('link', { name: 'Download' }).getAttribute('href');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await viewerCaption().textContent(), 'Seed 1234 · image 1 of 2');
    await page.keyboard.press('Escape');
    await viewer().waitFor({ state: 'hidden' });
    const png = await page.request.get(new URL(second!, server!.url).toString());
    const text = readPngTextChunks(new Uint8Array(await png.body()));
    assert.equal(text.fooocus_scheme, 'a1111', 'the image records its parameters as A1111 text');
    const written = parseGenerationMetadata(text.parameters!, text.fooocus_scheme);
    assert.deepEqual(
      [written.prompt, written.steps, written.seed, written.adaptiveCfg, written.clipSkip, written.admScalers, written.denoise, written.vae],
      [HARBOUR, STEPS, '1234', 5, 1, [1.5, 0.8, 0.5], 0.6, VAE],
    );

    // Back to a plain text-to-image form for the tests after this one.
    await page.getByRole('button', { name: 'Remove input image' }).click();
    await page.getByLabel('Same seed for every image (no seed increment)').uncheck();
    await page.getByLabel('Metadata scheme').selectOption('fooocus');
    await page.getByLabel('VAE', { exact: true }).selectOption('');
    await page.getByLabel('Random', { exact: true }).check();
    await expectNoInjection('after the developer run');
  });

  pageTest('the history shows the entry; Reuse puts its parameters back in the form', async () => {
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('Image number').fill('1');
    const first = sentBodies[0]!;
    const size = String(first.aspectRatio ?? `${String(first.width)}*${String(first.height)}`);
    // Change what Reuse should restore.
    await promptBox().fill('something else');
    await page.getByLabel('Random', { exact: true }).check();
    const options = await page.getByLabel('Aspect ratio').locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
    await page.getByLabel('Aspect ratio').selectOption(options.find((o) => o !== size)!);
    await page.getByLabel('Steps', { exact: true }).fill('');

    await page.getByRole('button', { name: 'History' }).click();
    const entry = page.getByRole('region', { name: 'History' }).locator('li.history-entry').filter({ hasText: PROMPT }).first();
    await entry.getByRole('img').waitFor();
    const seed = ((await entry.locator('figcaption').first().textContent()) ?? '').replace(/^Seed /, '');
    assert.match(seed, /^\d+$/, 'the history shows the seed of each image');
    await shot('08-history');
    await entry.getByRole('button', { name: 'Reuse', exact: true }).click();
    await promptBox().waitFor({ state: 'visible' });
    assert.equal(await promptBox().inputValue(), PROMPT);
    assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), seed);
    assert.equal(await page.getByLabel('Random', { exact: true }).isChecked(), false);
    assert.equal(await page.getByLabel('Aspect ratio').inputValue(), size);
    assert.equal(await page.getByLabel('Image number').inputValue(), '1');
    assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), String(STEPS));
    await page.getByRole('alert').filter({ hasText: 'Settings loaded from a history entry.' }).waitFor();
  });

  pageTest('a prompt that looks like markup is shown as text everywhere and runs nothing', async () => {
    await prepareForm(XSS);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await runStatus().filter({ hasText: 'Done: 1 image.' }).waitFor({ timeout: 240_000 });
    assert.equal(await promptBox().inputValue(), XSS);
    await expectNoInjection('after generating');

    // The history entry, with its parameters opened.
    await page.getByRole('button', { name: 'History' }).click();
    const entry = page.getByRole('region', { name: 'History' }).locator('li.history-entry').filter({ hasText: XSS }).first();
    await entry.waitFor();
    await entry.locator('details.parameters summary').click();
    const terms = await entry.locator('dl > *').allTextContents();
    assert.equal(terms[terms.indexOf('prompt') + 1], XSS, 'the history shows the prompt verbatim, as text');
    await expectNoInjection('in the history');
    await shot('09-xss');

    // The history's images open in the viewer too, not in a new tab.
    await entry.getByRole('button', { name: /^Open in the viewer/ }).first().click();
    await viewer().waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await viewer().waitFor({ state: 'hidden' });

    // The parameters the image file carries, read back by the page (Load parameters from an image).
    const imageUrl = await entry.getByRole('img').first().getAttribute('src');
    const png = await page.request.get(new URL(imageUrl!, server!.url).toString());
    assert.equal(png.status(), 200);
    await page.getByRole('button', { name: 'Create' }).click();
    await promptBox().fill('');
    await page.getByLabel('Load parameters from an image').setInputFiles({ name: 'xss.png', mimeType: 'image/png', buffer: await png.body() });
    await page.getByRole('alert').filter({ hasText: 'Settings from xss.png: restored prompt' }).waitFor();
    assert.equal(await promptBox().inputValue(), XSS, 'the prompt read from the image metadata is the text typed');
    await expectNoInjection('after reading the image metadata');
    await shot('10-xss-metadata');
  });

  pageTest('works at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Create' }).click();
    const generate = page.getByRole('button', { name: 'Generate', exact: true });
    await generate.waitFor();
    const box = await generate.boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= 390, 'Generate is on screen at 390 px');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow} px at phone width`);
    await shot('11-phone');
  });
});
