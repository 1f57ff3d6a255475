// The one place that chooses the browser for the editor tests (and anything
// else that drives Chromium through playwright-core), so that `npm ci && npm
// test` needs nothing but Node.js and npm:
//   1. CHROMIUM_PATH, when set: that binary;
//   2. on Linux x64, the Chromium inside the @sparticuz/chromium devDependency
//      (its npm tarball holds the binary, brotli-compressed, with the NSS and
//      expat libraries, SwiftShader and a font it needs; nothing is
//      downloaded, the package has no install script). It is unpacked once
//      into .cache/chromium-<version>/ (about 5 s) and run with those
//      libraries and fonts;
//   3. Debian's /usr/bin/chromium, when present (other platforms).
import fs from 'fs';
import path from 'path';
import { chromium, BrowserContext } from 'playwright-core';

const repoRoot = path.resolve(__dirname, '..', '..');
const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumBinary {
  executablePath: string;
  /** Environment the binary needs beside the test's own. */
  env: Record<string, string>;
  /** Where it came from, for messages. */
  source: string;
}

interface SparticuzModule {
  inflate(file: string): Promise<string>;
}

/** The package's directory (its `exports` hide package.json from require.resolve). */
function sparticuzDir(): string | undefined {
  try {
    return path.resolve(path.dirname(require.resolve('@sparticuz/chromium')), '..');
  } catch {
    return undefined;
  }
}

/**
 * Unpacks @sparticuz/chromium's binary once. The package unpacks into
 * os.tmpdir() (shared /tmp/chromium); pointing TMPDIR at a staging directory
 * of our own while it starts each unpacking keeps runs apart, and the rename
 * at the end makes the cache appear whole or not at all, also when several
 * test processes race.
 */
async function unpackedSparticuz(packageDir: string): Promise<ChromiumBinary> {
  const { version } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const target = path.join(repoRoot, '.cache', `chromium-${version}`);
  const binary: ChromiumBinary = {
    executablePath: path.join(target, 'chromium'),
    env: {
      LD_LIBRARY_PATH: [path.join(target, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_PATH: path.join(target, 'fonts'),
    },
    source: `@sparticuz/chromium ${version} (${path.relative(repoRoot, target)})`,
  };
  if (fs.existsSync(binary.executablePath)) return binary;
  const staging = `${target}.unpacking-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  // An ES module: loaded with require() (Node.js ≥ 20.19 loads ES modules that way).

  const sparticuz = require('@sparticuz/chromium') as SparticuzModule;
  const archives = ['chromium.br', 'fonts.tar.br', 'swiftshader.tar.br', 'al2023.tar.br'].map((name) => path.join(packageDir, 'bin', name));
  const savedTmpdir = process.env.TMPDIR;
  let unpacking: Array<Promise<string>>;
  process.env.TMPDIR = staging;
  try {
    // inflate() reads os.tmpdir() synchronously, when it is called.
    unpacking = archives.map((archive) => sparticuz.inflate(archive));
  } finally {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
  }
  try {
    await Promise.all(unpacking);
    // The package's fonts.conf names Lambda's directories (/tmp/fonts, /var/task/fonts); with no font
    // found, Chromium aborts on the first text it draws. Name the bundled font and the system's.
    fs.writeFileSync(
      path.join(staging, 'fonts', 'fonts.conf'),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        '<fontconfig>',
        `  <dir>${path.join(target, 'fonts', 'fonts')}</dir>`,
        '  <dir>/usr/share/fonts</dir>',
        `  <cachedir>${path.join(target, 'fonts-cache')}</cachedir>`,
        '</fontconfig>',
        '',
      ].join('\n'),
    );
    fs.renameSync(staging, target);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(binary.executablePath)) throw error;
  }
  return binary;
}

/** The Chromium to run, as the comment at the top says. */
export async function findChromium(): Promise<ChromiumBinary> {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`CHROMIUM_PATH=${explicit} does not exist`);
    return { executablePath: explicit, env: {}, source: 'CHROMIUM_PATH' };
  }
  const packageDir = sparticuzDir();
  if (packageDir && process.platform === 'linux' && process.arch === 'x64') return unpackedSparticuz(packageDir);
  if (fs.existsSync(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, env: {}, source: SYSTEM_CHROMIUM };
  throw new Error(
    `No Chromium: @sparticuz/chromium (a devDependency, Linux x64 only) is ${packageDir ? `not usable on ${process.platform}-${process.arch}` : 'not installed (npm ci)'}, ` +
      `and there is no ${SYSTEM_CHROMIUM}; install a Chromium or set CHROMIUM_PATH`,
  );
}

export type LaunchOptions = Omit<NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>, 'executablePath'>;

/** A persistent browser context in the Chromium findChromium() picks. */
export async function launchChromium(userDataDir: string, options: LaunchOptions): Promise<BrowserContext> {
  const binary = await findChromium();
  const env = Object.keys(binary.env).length ? { ...(options.env ?? process.env), ...binary.env } : options.env;
  try {
    return await chromium.launchPersistentContext(userDataDir, { ...options, env, executablePath: binary.executablePath });
  } catch (error) {
    (error as Error).message = `Chromium from ${binary.source} did not start: ${(error as Error).message}`;
    throw error;
  }
}
