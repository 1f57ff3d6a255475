// The one place that finds and launches the browser for the editor tests
// (playwright-core drives it). Everything else asks launchBrowser() for it.
import fs from 'fs';
import { Browser, chromium } from 'playwright-core';

/** The Chromium binary: CHROMIUM_PATH, else Debian's chromium package. */
export function chromiumExecutable(): string {
  const executable = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(executable)) {
    throw new Error(`No Chromium at ${executable}: install Debian's chromium (as .ci/run does) or set CHROMIUM_PATH`);
  }
  return executable;
}

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
  return chromium.launch({ executablePath: chromiumExecutable(), headless: true, args: CHROMIUM_ARGS });
}
