// Real headless Chromium for the console tests: Debian's /usr/bin/chromium (scripts/setup-system.sh
// installs it) driven by playwright-core, which never downloads a browser. Each launch gets a fresh
// profile folder, removed on close.
import { mkdtemp, rm, mkdir, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'beacon-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export const VIEWPORTS = { laptop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

const repoRoot = path.resolve(__dirname, '..', '..');
/** Ignored (test-output/ in .gitignore); with UPDATE_CONSOLE_DOCS=1, docs/console/ gets a copy for docs/console.md. */
export const SHOT_DIR = path.join(repoRoot, 'test-output', 'console');
const DOCS_DIR = path.join(repoRoot, 'docs', 'console');
// A test run leaves the committed docs alone unless asked (the shots hold timestamps).
const UPDATE_DOCS = process.env.UPDATE_CONSOLE_DOCS === '1';

/** One screen at both sizes: test-output/console/<name>-1280x800.png and -390x844.png, copied to docs/console/ on request. */
export async function screenshots(page: Page, name: string, focus?: Locator): Promise<void> {
  await mkdir(SHOT_DIR, { recursive: true });
  if (UPDATE_DOCS) await mkdir(DOCS_DIR, { recursive: true });
  const original = page.viewportSize();
  for (const vp of Object.values(VIEWPORTS)) {
    await page.setViewportSize(vp);
    // The part of the screen the shot is about: the top, or `focus` scrolled into view.
    if (focus) await focus.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    else await page.evaluate(() => window.scrollTo(0, 0));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const file = `${name}-${vp.width}x${vp.height}.png`;
    await page.screenshot({ path: path.join(SHOT_DIR, file), fullPage: false });
    if (UPDATE_DOCS) await copyFile(path.join(SHOT_DIR, file), path.join(DOCS_DIR, file));
  }
  if (original) await page.setViewportSize(original);
}
