/**
 * The page in a real browser: Playwright drives Debian's Chromium against the real server, studio and demo
 * model on 127.0.0.1. Type a prompt, generate, watch the progress bar and preview move and the result arrive,
 * reuse it from the history; a markup-looking prompt stays text everywhere it is shown (prompt box, history,
 * the parameters read back from the image file) and runs nothing. Screenshots of each state go to
 * test-artifacts/screenshots/ (kept by CI as artifacts), plus one of any test that fails.
 *
 * Chromium comes from Debian (`.ci/run` installs it); without it the test is skipped locally with the install
 * command, and fails under CI, so CI cannot pass without running it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { createStudio, type Studio } from '../../src/app/studio/create-studio.ts';
import { UI_DIR } from '../../src/cli/commands/serve.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';
const PROMPT = 'a lighthouse on a cliff at dusk';
/**
 * The page has no step control (a performance mode sets the steps), and Speed's 30 steps take a minute on two
 * cores even with the demo model; the test adds a step count to the page's own request on its way out.
 */
const STEPS = 8;
const skip = CHROMIUM === null && process.env.CI === undefined ? 'Chromium is not installed: sudo apt-get install chromium (CI installs it, and fails instead of skipping)' : false;

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

describe('the studio page in Chromium', { skip, timeout: 300_000 }, () => {
  let dir: string | undefined;
  let studio: Studio | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const sentBodies: Record<string, unknown>[] = [];

  before(async () => {
    assert.ok(CHROMIUM !== null, 'Chromium is required under CI: .ci/run installs it with apt-get install chromium');
    // Always from the current sources, so the page under test is never a stale build.
    const build = spawnSync('npm', ['run', '-s', 'build:ui'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build:ui failed: ${build.stdout}${build.stderr}`);
    await mkdir(SCREENSHOTS, { recursive: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-browser-'));
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    config.runtime.threads = 1;
    studio = await createStudio(config, { software: 'Fooocus-TS browser test' });
    server = await startServer(createAppStudioPort(studio), { host: '127.0.0.1', auth: null, outputsDir: studio.outputsDir, uiDir: UI_DIR, logger: false }, { listenPort: 0, handleSignals: false });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Chromium's sandbox cannot start as root (CI containers); as any other user it stays on.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(60_000);
    await page.addInitScript(installInjectionProbe);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.route('**/api/v1/generate', async (route) => {
      const body = route.request().postDataJSON() as Record<string, unknown>;
      sentBodies.push(body);
      await route.continue({ postData: JSON.stringify({ ...body, steps: STEPS }) });
    });
  });

  after(async () => {
    // Each step on its own, so a failure in one still closes the rest.
    await browser?.close().catch(() => undefined);
    if (server !== undefined) await server.stop();
    else await studio?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };
  /** A test that leaves a screenshot of the page when it fails. */
  const pageTest = (name: string, body: () => Promise<void>): void => {
    test(name, async () => {
      try {
        await body();
      } catch (error) {
        if (browser !== undefined) await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
        throw error;
      }
    });
  };
  const promptBox = () => page.getByRole('textbox', { name: 'Prompt', exact: true });
  const runStatus = () => page.getByRole('status');

  /** The smallest size the page offers for the demo model, and one image. */
  const prepareForm = async (prompt: string): Promise<string> => {
    await page.getByRole('button', { name: 'Create' }).click();
    await promptBox().fill(prompt);
    await page.getByLabel('Image number').fill('1');
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

  pageTest('opens with the demo model and says how to get a real one', async () => {
    await page.goto(`${server!.url}/`);
    await page.getByRole('heading', { name: 'Fooocus-TS' }).waitFor();
    const notice = page.getByRole('region', { name: 'About the models' });
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? '', /demo/i);
    assert.match((await notice.textContent()) ?? '', /npm run fooocus -- models pull/);
    await shot('01-start');
  });

  pageTest('generates with the demo model: the progress bar and preview move, then the image is in the gallery', async () => {
    const size = await prepareForm(PROMPT);
    await page.getByRole('button', { name: 'Generate' }).click();
    const bar = page.getByRole('progressbar', { name: 'Generation progress' });
    await bar.waitFor({ state: 'visible' });
    await runStatus().filter({ hasText: /Step [1-9]\d* of \d+/ }).waitFor({ timeout: 120_000 });
    const first = await bar.evaluate((b) => (b as HTMLProgressElement).value);
    const preview = page.getByRole('img', { name: 'Live preview of the image being generated' });
    await preview.waitFor({ state: 'visible' });
    assert.match((await preview.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
    await shot('02-progress');
    // The bar moves on: a later step, or the end of the run.
    await page.waitForFunction((before) => (document.querySelector('progress') as HTMLProgressElement).value > before, first, { timeout: 120_000 });
    await runStatus().filter({ hasText: 'Done: 1 image.' }).waitFor({ timeout: 120_000 });
    assert.equal(await bar.evaluate((b) => (b as HTMLProgressElement).value), 1);
    assert.ok(await preview.isHidden(), 'the preview gives way to the result');

    const image = page.getByRole('region', { name: 'Results' }).getByRole('img');
    await image.waitFor();
    assert.ok(await image.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0), 'the result image loaded');
    const [width, height] = size.split('*').map(Number);
    assert.deepEqual(await image.evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]), [width, height]);
    assert.equal(sentBodies.length, 1);
    assert.equal(sentBodies[0]!.prompt, PROMPT, 'the page sent the typed prompt');
    await shot('03-result');
  });

  pageTest('the history shows the entry; Reuse puts its parameters back in the form', async () => {
    const size = await page.getByLabel('Aspect ratio').inputValue();
    // Change what Reuse should restore.
    await promptBox().fill('something else');
    await page.getByLabel('Random', { exact: true }).check();
    const options = await page.getByLabel('Aspect ratio').locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
    await page.getByLabel('Aspect ratio').selectOption(options.find((o) => o !== size)!);

    await page.getByRole('button', { name: 'History' }).click();
    const entry = page.getByRole('region', { name: 'History' }).locator('li.history-entry').filter({ hasText: PROMPT }).first();
    await entry.getByRole('img').waitFor();
    const seed = ((await entry.locator('figcaption').first().textContent()) ?? '').replace(/^Seed /, '');
    assert.match(seed, /^\d+$/, 'the history shows the seed of each image');
    await shot('04-history');
    await entry.getByRole('button', { name: 'Reuse', exact: true }).click();
    await promptBox().waitFor({ state: 'visible' });
    assert.equal(await promptBox().inputValue(), PROMPT);
    assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), seed);
    assert.equal(await page.getByLabel('Random', { exact: true }).isChecked(), false);
    assert.equal(await page.getByLabel('Aspect ratio').inputValue(), size);
    assert.equal(await page.getByLabel('Image number').inputValue(), '1');
    await page.getByRole('alert').filter({ hasText: 'Settings loaded from a history entry.' }).waitFor();
  });

  pageTest('a prompt that looks like markup is shown as text everywhere and runs nothing', async () => {
    await prepareForm(XSS);
    await page.getByRole('button', { name: 'Generate' }).click();
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
    await shot('05-xss');

    // The parameters the image file carries, read back by the page (Load parameters from a PNG).
    const imageUrl = await entry.getByRole('img').first().getAttribute('src');
    const png = await page.request.get(new URL(imageUrl!, server!.url).toString());
    assert.equal(png.status(), 200);
    await page.getByRole('button', { name: 'Create' }).click();
    await promptBox().fill('');
    await page.getByLabel('Load parameters from a PNG').setInputFiles({ name: 'xss.png', mimeType: 'image/png', buffer: await png.body() });
    await page.getByRole('alert').filter({ hasText: 'Settings loaded from xss.png' }).waitFor();
    assert.equal(await promptBox().inputValue(), XSS, 'the prompt read from the image metadata is the text typed');
    await expectNoInjection('after reading the image metadata');
    await shot('06-xss-metadata');
  });

  pageTest('works at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Create' }).click();
    const generate = page.getByRole('button', { name: 'Generate' });
    await generate.waitFor();
    const box = await generate.boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= 390, 'Generate is on screen at 390 px');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow} px at phone width`);
    await shot('07-phone');
  });
});
