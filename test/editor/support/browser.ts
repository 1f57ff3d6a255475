// The one place that launches the browser for the editor tests (playwright-core
// drives it). Which Chromium (CHROMIUM_PATH, the npm-shipped @sparticuz/chromium,
// or Debian's) is chosen by test/support/browser.ts.
import { Browser, chromium } from 'playwright-core';
import { findChromium } from '../../support/browser';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A headless Chromium; each editor session opens a context of its own in it. */
export async function launchBrowser(): Promise<Browser> {
  const binary = await findChromium();
  try {
    return await chromium.launch({ executablePath: binary.executablePath, env: { ...process.env, ...binary.env }, headless: true, args: CHROMIUM_ARGS });
  } catch (error) {
    (error as Error).message = `Chromium from ${binary.source} did not start: ${(error as Error).message}`;
    throw error;
  }
}
