/**
 * The page in a real browser: Playwright drives Debian's Chromium against the real server, studio and demo
 * model on 127.0.0.1. Type a prompt, generate, watch progress and the result, reuse it from the history; a
 * markup-looking prompt stays text everywhere and runs nothing. Screenshots of each state go to
 * test-artifacts/screenshots/ (kept by CI as artifacts).
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
import { createStudio } from '../../src/app/studio/create-studio.ts';
import { UI_DIR } from '../../src/cli/commands/serve.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;
const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';
const skip = CHROMIUM === null && process.env.CI === undefined ? 'Chromium is not installed: apt-get install chromium (CI installs it)' : false;

describe('the studio page in Chromium', { skip, timeout: 300_000 }, () => {
  let dir: string;
  let studio: Awaited<ReturnType<typeof createStudio>>;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(CHROMIUM !== null, 'Chromium is required under CI: .ci/run installs it with apt-get install chromium');
    // Always from the current sources, so the page under test is never a stale build.
    const build = spawnSync('npm', ['run', '-s', 'build:ui'], { cwd: path.resolve(UI_DIR, '..', '..'), encoding: 'utf8' });
    assert.equal(build.status, 0, `npm run build:ui failed: ${build.stderr}`);
    await mkdir(SCREENSHOTS, { recursive: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-browser-'));
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    config.runtime.threads = 1;
    studio = await createStudio(config, { software: 'Fooocus-TS browser test' });
    server = await startServer(createAppStudioPort(studio), { host: '127.0.0.1', auth: null, outputsDir: studio.outputsDir, uiDir: UI_DIR, logger: false }, { listenPort: 0, handleSignals: false });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  /** Small and fast with the demo model: the smallest SD 1.5 size, one image, Extreme-Speed-free settings. */
  const prepareForm = async (prompt: string): Promise<void> => {
    await page.locator('textarea#prompt').fill(prompt);
    await page.getByLabel('Image number').fill('1');
    const aspect = page.getByLabel('Aspect ratio');
    const options = await aspect.locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
    const smallest = options.map((v) => ({ v, px: v.split('*').map(Number).reduce((a, b) => a * b, 1) })).sort((a, b) => a.px - b.px)[0];
    if (smallest !== undefined) await aspect.selectOption(smallest.v);
  };

  const generateAndWait = async (): Promise<void> => {
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('status').filter({ hasText: /Done: 1 image/ }).waitFor({ timeout: 240_000 });
  };

  test('opens with the demo model and says how to get a real one', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Fooocus-TS' }).waitFor();
    await page.getByRole('region', { name: 'About the models' }).waitFor();
    const notice = await page.getByRole('region', { name: 'About the models' }).textContent();
    assert.match(notice ?? '', /demo/i);
    assert.match(notice ?? '', /fooocus models pull/);
    await shot('01-start');
  });

  test('generates with the demo model: progress, a preview, then the image in the gallery', async () => {
    await prepareForm('a lighthouse on a cliff at dusk');
    await page.getByRole('button', { name: 'Generate' }).click();
    const bar = page.getByRole('progressbar', { name: 'Generation progress' });
    await bar.waitFor({ state: 'visible' });
    await page.getByRole('status').filter({ hasText: /Step \d+ of \d+/ }).waitFor({ timeout: 240_000 });
    await shot('02-progress');
    await page.getByRole('status').filter({ hasText: /Done: 1 image/ }).waitFor({ timeout: 240_000 });
    const image = page.getByRole('region', { name: 'Results' }).getByRole('img').first();
    await image.waitFor();
    const loaded = await image.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0);
    assert.ok(loaded, 'the result image did not load');
    assert.equal(await bar.evaluate((b) => (b as HTMLProgressElement).value), 1);
    await shot('03-result');
  });

  test('the history shows the entry; Reuse puts its parameters back in the form', async () => {
    await page.getByRole('button', { name: 'History' }).click();
    const history = page.getByRole('region', { name: 'History' });
    const entry = history.locator('li.history-entry').filter({ hasText: 'a lighthouse on a cliff at dusk' }).first();
    await entry.waitFor();
    await shot('04-history');
    await page.locator('textarea#prompt').evaluate((t) => ((t as HTMLTextAreaElement).value = ''));
    await entry.getByRole('button', { name: 'Reuse', exact: true }).click();
    await page.locator('textarea#prompt').waitFor({ state: 'visible' });
    assert.equal(await page.locator('textarea#prompt').inputValue(), 'a lighthouse on a cliff at dusk');
  });

  test('a prompt that looks like markup is shown as text everywhere and runs nothing', async () => {
    await page.getByRole('button', { name: 'Create' }).click();
    await page.evaluate(() => {
      (window as unknown as { pwned?: boolean }).pwned = false;
    });
    await prepareForm(XSS);
    await generateAndWait();
    await page.getByRole('button', { name: 'History' }).click();
    const history = page.getByRole('region', { name: 'History' });
    const entry = history.locator('li.history-entry').filter({ hasText: XSS }).first();
    await entry.waitFor();
    await entry.locator('details.parameters summary').click();
    const shownPrompt = entry.locator('dd').filter({ hasText: XSS }).first();
    assert.equal(await shownPrompt.textContent(), XSS, 'the prompt is shown verbatim as text');
    await shot('05-xss');
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no element was created from the prompt');
    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.deepEqual(pageErrors, [], 'no script error on the page');
    await page.getByRole('button', { name: 'Create' }).click();
    assert.equal(await page.locator('textarea#prompt').inputValue(), XSS);
  });

  test('works at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Create' }).click();
    const generate = page.getByRole('button', { name: 'Generate' });
    await generate.waitFor();
    const box = await generate.boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= 390, 'Generate is on screen at 390 px');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow} px at phone width`);
    await shot('06-phone');
  });
});
