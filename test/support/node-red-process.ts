// A real Node-RED process for end-to-end, editor and benchmark runs: the
// package is packed with `npm pack`, installed into a fresh user directory
// with `npm install <tarball>` (as a user would), and Node-RED is started on
// 127.0.0.1. Tracked by PID (the process renames itself `node-red`).
import { ChildProcess, execFileSync, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { waitFor } from './wait';

export const repoRoot = path.resolve(__dirname, '..', '..');
const cacheDir = path.join(repoRoot, '.cache');
/**
 * The Node-RED under test: NODE_RED_PATH (a node-red package directory; the
 * version matrix, test/tools/node-red-matrix.ts, sets it) or the
 * devDependency. It runs on the Node.js running the tests unless told otherwise.
 */
export const defaultNodeRedDir = process.env.NODE_RED_PATH ? path.resolve(process.env.NODE_RED_PATH) : path.dirname(require.resolve('node-red/package.json'));

let packedTarball: string | undefined;
let installedTemplate: string | undefined;

/** `npm pack` of the working tree (built beforehand by `npm test`), once per process. */
export function packPackage(): string {
  if (packedTarball) return packedTarball;
  // Per process: several test runs at once must not delete each other's tarball.
  const destination = path.join(cacheDir, 'pack', String(process.pid));
  fs.mkdirSync(destination, { recursive: true });
  for (const old of fs.readdirSync(destination)) fs.rmSync(path.join(destination, old), { force: true });
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(output) as Array<{ filename: string }>;
  packedTarball = path.join(destination, info.filename);
  return packedTarball;
}

/** A user directory with the packed package installed, made once and copied for each process. */
function installedUserDirTemplate(): string {
  if (installedTemplate) return installedTemplate;
  const tarball = packPackage();
  const template = path.join(cacheDir, 'userdir-template', String(process.pid));
  fs.rmSync(template, { recursive: true, force: true });
  fs.mkdirSync(template, { recursive: true });
  fs.writeFileSync(path.join(template, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: template,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  installedTemplate = template;
  process.once('exit', () => {
    fs.rmSync(template, { recursive: true, force: true });
    fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
  });
  return template;
}

/** Whether something accepts a TCP connection on 127.0.0.1:port now. */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A process whose console logs at `warn` or less does not print the
 * "Started flows" line start() waits for (benchmarks: the webhook node's
 * per-event info lines would flood the pipe). Its flows get a tab of their own
 * with a GET route that answers once the flows have started, and start()
 * polls that instead.
 */
const READY_PATH = '/node-red-process-ready';
const READY_FLOWS = [
  { id: 'nrp-ready-tab', type: 'tab', label: 'NodeRedProcess readiness', disabled: false, info: '' },
  {
    id: 'nrp-ready-in',
    type: 'http in',
    z: 'nrp-ready-tab',
    name: '',
    url: READY_PATH,
    method: 'get',
    upload: false,
    swaggerDoc: '',
    x: 150,
    y: 40,
    wires: [['nrp-ready-out']],
  },
  { id: 'nrp-ready-out', type: 'http response', z: 'nrp-ready-tab', name: '', statusCode: '200', headers: {}, x: 350, y: 40, wires: [] },
];

function logsInfo(settings: Record<string, unknown>): boolean {
  const level = (settings.logging as { console?: { level?: string } } | undefined)?.console?.level ?? 'info';
  return ['info', 'debug', 'trace'].includes(level);
}

export interface NodeRedOptions {
  flows?: unknown[];
  credentials?: Record<string, unknown>;
  /** Extra settings, JSON-serialisable; merged over the defaults below. */
  settings?: Record<string, unknown>;
  /** Install the packed package (default true). */
  installPackage?: boolean;
  /** Reuse an existing user directory (for restarts after a crash). */
  userDir?: string;
  /** Extra Node.js options for the Node-RED process, e.g. ['--cpu-prof'] (benchmarks). */
  execArgv?: string[];
  /** The node binary to run Node-RED with (default: the one running the tests). */
  node?: string;
  /** The node-red package directory to run (default: defaultNodeRedDir). */
  nodeRedDir?: string;
  /** The port to listen on (default: a free ephemeral one). */
  port?: number;
}

export class NodeRedProcess {
  readonly userDir: string;
  readonly port: number;
  private child: ChildProcess | undefined;
  private output = '';
  private exited: Promise<void> | undefined;

  private constructor(
    userDir: string,
    port: number,
    private readonly execArgv: string[] = [],
    /** Polled by start() instead of waiting for the "Started flows" line (see READY_PATH). */
    private readonly readyPath?: string,
    private readonly node: string = process.execPath,
    private readonly redJs: string = path.join(defaultNodeRedDir, 'red.js'),
  ) {
    this.userDir = userDir;
    this.port = port;
  }

  static async create(options: NodeRedOptions = {}): Promise<NodeRedProcess> {
    const port = options.port ?? (await freePort());
    let userDir = options.userDir;
    if (!userDir) {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-node-red-'));
      if (options.installPackage !== false) {
        fs.cpSync(installedUserDirTemplate(), userDir, { recursive: true });
      }
    }
    const settings = {
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: 'flows.json',
      credentialSecret: 'test-credential-secret',
      telemetry: { enabled: false },
      editorTheme: { tours: false, palette: { catalogues: [] }, projects: { enabled: false } },
      logging: { console: { level: 'info', metrics: false, audit: false } },
      ...options.settings,
    };
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    const quiet = !logsInfo(settings);
    if (quiet && !options.flows) throw new Error('NodeRedProcess: a process logging below info needs its flows given, to add the readiness route');
    const flows = options.flows && quiet ? [...options.flows, ...READY_FLOWS] : options.flows;
    if (flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows, null, 2));
    return new NodeRedProcess(
      userDir,
      port,
      options.execArgv,
      quiet ? READY_PATH : undefined,
      options.node,
      path.join(options.nodeRedDir ?? defaultNodeRedDir, 'red.js'),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts Node-RED and waits until its flows have started. */
  async start(timeoutMs = 30000): Promise<void> {
    const startedBefore = this.count('Started flows');
    this.child = spawn(this.node, [...this.execArgv, this.redJs, '-u', this.userDir, '-s', path.join(this.userDir, 'settings.js')], {
      cwd: this.userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test' },
    });
    const child = this.child;
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let exitedEarly = false;
    void this.exited.then(() => (exitedEarly = true));
    const readyUrl = this.readyPath ? `${this.url}${this.readyPath}` : undefined;
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`Node-RED exited while starting:\n${this.output}`);
        if (!readyUrl) return this.count('Started flows') > startedBefore;
        const answer = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return answer?.status === 200;
      },
      timeoutMs,
      'Node-RED to start its flows',
    );
    // red.js listens only once the runtime has started, which may be after the "Started flows" line.
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`Node-RED exited while starting:\n${this.output}`);
        return acceptsConnections(this.port);
      },
      timeoutMs,
      'Node-RED to listen on its port',
    );
  }

  count(text: string): number {
    return this.output.split(text).length - 1;
  }

  /** Deploys flows through the admin API, as the editor does, and waits for them to start. */
  async deploy(flows: unknown[], type: 'full' | 'nodes' | 'flows' = 'full'): Promise<void> {
    const startedBefore = this.count('Started ');
    const response = await fetch(`${this.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': type },
      body: JSON.stringify(flows),
    });
    if (response.status !== 200 && response.status !== 204) {
      throw new Error(`deploy answered ${response.status}: ${await response.text()}`);
    }
    await waitFor(() => this.count('Started ') > startedBefore, 15000, 'the deployed flows to start');
  }

  /** Stops Node-RED the way Ctrl-C does, so nodes close cleanly. */
  async stop(timeoutMs = 20000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.exited!.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      child.kill('SIGKILL');
      await this.exited;
      throw new Error(`Node-RED did not stop within ${timeoutMs} ms`);
    }
  }

  /** A crash: SIGKILL, no chance to flush anything. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops (if running) and removes the user directory. */
  async dispose(): Promise<void> {
    try {
      await this.stop();
    } finally {
      fs.rmSync(this.userDir, { recursive: true, force: true });
    }
  }

  /** Lines of the log at `[error]` level, and errors Node-RED prints bare (a flow that failed to start). */
  errorLines(): string[] {
    return this.output.split('\n').filter((line) => line.includes('[error]') || /^\w*Error:/.test(line));
  }
}
