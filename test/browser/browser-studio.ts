/**
 * What every browser test starts with: the page built from the current sources into a temporary folder of its own
 * (never a stale build, nor one another test is rebuilding), the real studio and server on 127.0.0.1 with the demo
 * model, and Debian's Chromium driven by Playwright. Each test adds its own models, routes and probes.
 *
 * Chromium comes from Debian (`.ci/run` installs it); without it the tests are skipped locally and fail under CI.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { createStudio, type Studio } from '../../src/app/studio/create-studio.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { buildUi } from '../../scripts/build-ui.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;

/** Where browser tests save their screenshots (ignored by git). */
export const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

/** The `skip` option of a browser test's describe: skipped without Chromium, except under CI, where it must run. */
export const skipWithoutChromium =
  CHROMIUM === null && process.env.CI === undefined ? 'Chromium is not installed: sudo apt-get install chromium (CI installs it, and fails instead of skipping)' : false;

export interface BrowserStudio {
  dir: string;
  studio: Studio;
  server: RunningServer;
  browser: Browser;
  page: Page;
  /** Uncaught errors in the page, in order. */
  pageErrors: string[];
  /** Every body the page POSTed to /api/v1/generate, in order. */
  sentBodies: Record<string, unknown>[];
  /** Closes each part on its own, so a failure in one still closes the rest. */
  close(): Promise<void>;
}

export interface BrowserStudioOptions {
  /** Names the temporary folder (`fooocus-<name>-`). */
  name: string;
  /** Playwright's default timeout for the page's actions and waits. */
  timeoutMs?: number;
  /** Puts models into the store (or anything else) before the server starts. */
  prepare?: (studio: Studio, dir: string) => Promise<void>;
}

export async function startBrowserStudio(options: BrowserStudioOptions): Promise<BrowserStudio> {
  assert.ok(CHROMIUM !== null, 'Chromium is required under CI: .ci/run installs it with apt-get install chromium');
  await mkdir(SCREENSHOTS, { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), `fooocus-${options.name}-`));
  let studio: Studio | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    if (server !== undefined) await server.stop();
    else await studio?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const uiDir = path.join(dir, 'ui');
    await buildUi(uiDir);
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    config.runtime.threads = 1;
    studio = await createStudio(config, { software: 'Fooocus-TS browser test' });
    await options.prepare?.(studio, dir);
    server = await startServer(createAppStudioPort(studio), { host: '127.0.0.1', auth: null, outputsDir: studio.outputsDir, uiDir, logger: false }, { listenPort: 0, handleSignals: false });
    // Chromium's sandbox cannot start as root (CI containers); as any other user it stays on.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(options.timeoutMs ?? 60_000);
    const pageErrors: string[] = [];
    const sentBodies: Record<string, unknown>[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.route('**/api/v1/generate', async (route) => {
      sentBodies.push(route.request().postDataJSON() as Record<string, unknown>);
      await route.continue();
    });
    return { dir, studio, server, browser, page, pageErrors, sentBodies, close };
  } catch (error) {
    await close();
    throw error;
  }
}
