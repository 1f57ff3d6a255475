// The webhook catcher of FindFace's documentation ("Webhook in Action"), run
// as an independent real receiver: the Python aiohttp script exactly as the
// seed gives it, with only its port (and, as the tests bind to 127.0.0.1
// only, its host) changed, run with the system's /usr/bin/python3.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { waitFor } from './wait';

export const PYTHON = '/usr/bin/python3';

/** The script as the seed prints it. */
export const SEED_CATCHER_SCRIPT = `from pprint import pprint
from aiohttp import web


async def handle(request):
    pprint(await request.json())
    return web.Response(status=200)


app = web.Application()
# for aiohttp v 3.x
# app.add_routes([web.post('/', handle)])

# for aiohttp v 2.x
app.router.add_post('/', handle)

web.run_app(app, port=8888)
`;

/**
 * What the seed shows the catcher printing for its sample event (the seed's
 * indentation of the last line is off by one; compare with whitespace collapsed).
 */
export const SEED_CATCHER_OUTPUT = `[{'acknowledged': True,
  'acknowledged_by': None,
  'acknowledged_date': '2019-04-09T12:29:23Z',
  'acknowledged_reaction': None,
  'camera': 2,
  'confidence': 0.9098,
  'created_date': '2019-04-09T12:29:23Z',
  'face': 'http://172.20.77.17/uploads/2019/04/09/event/122955_face_aT3ZZh.jpg',
  'features': {'age': None,
               'beard': None,
               'emotions': None,
               'gender': None,
               'glasses': None,
               'liveness': None},
  'frame': 'http://172.20.77.17/uploads/2019/04/09/event/122955_image_3msdHH.jpg',
  'frame_coords_bottom': 981,
  'frame_coords_left': 1630,
  'frame_coords_right': 1911,
  'frame_coords_top': 701,
  'id': '4173669353687265180',
  'looks_like_confidence': None,
  'matched': True,
  'matched_dossier': 1,
  'matched_face': '4173665826982243136',
  'matched_lists': [1],
  'normalized_photo': 'http://172.20.77.17/uploads/2019/04/09/event/122955_face0_E638aW.png',
  'quality': -0.000158,
  'scores': {'direction_score': -2.62964,
             'frame_no': 800,
             'score': -0.000158435,
            'tracking_duration': 34000}}]`;

/** Why the catcher cannot run here, or null when /usr/bin/python3 imports aiohttp. */
export function seedCatcherUnavailable(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} is not installed`;
  const probe = spawnSync(PYTHON, ['-c', 'import aiohttp; print(aiohttp.__version__)'], { encoding: 'utf8', timeout: 20000 });
  if (probe.status !== 0)
    return `${PYTHON} cannot import aiohttp (install python3-aiohttp, as .ci/run does): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;
  return null;
}

/** The seed's script with another port (and host 127.0.0.1); `aiohttp3` swaps in the 3.x route line the seed comments out. */
export function catcherScript(port: number, aiohttp3 = false): string {
  let script = SEED_CATCHER_SCRIPT.replace('web.run_app(app, port=8888)', `web.run_app(app, host='127.0.0.1', port=${port})`);
  if (aiohttp3) {
    script = script
      .replace("# app.add_routes([web.post('/', handle)])", "app.add_routes([web.post('/', handle)])")
      .replace("app.router.add_post('/', handle)", "# app.router.add_post('/', handle)");
  }
  return script;
}

export class SeedCatcher {
  output = '';
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    readonly routeLine: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Writes the script to a temp file and runs it until it says it is running (the 3.x route line if the 2.x one fails). */
  static async start(port: number): Promise<SeedCatcher> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-seed-catcher-'));
    let lastError = '';
    for (const aiohttp3 of [false, true]) {
      const file = path.join(dir, 'catcher.py');
      fs.writeFileSync(file, catcherScript(port, aiohttp3));
      const catcher = new SeedCatcher(port, dir, aiohttp3 ? 'app.add_routes (aiohttp 3.x)' : 'app.router.add_post (as the seed runs it)');
      const child = spawn(PYTHON, ['-u', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
      catcher.child = child;
      child.stdout!.on('data', (chunk: Buffer) => (catcher.output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (catcher.output += chunk.toString()));
      let gone = false;
      catcher.exited = new Promise((resolve) => child.once('exit', () => ((gone = true), resolve())));
      try {
        await waitFor(() => gone || catcher.output.includes('Running on'), 20000, 'the seed catcher to run');
      } catch (error) {
        await catcher.stop();
        throw error;
      }
      if (!gone) return catcher;
      lastError = catcher.output;
      if (aiohttp3 || !/add_post/.test(catcher.output)) break;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the seed catcher did not start:\n${lastError}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
