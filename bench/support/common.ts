// Small helpers shared by the benchmarks in bench/ (no Node-RED import).
import { execFileSync } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { defaultNodeRedDir } from '../../test/support/node-red-process';

export const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const round = (value: number, digits = 2): number => +value.toFixed(digits);

export interface Answer {
  status: number;
  body: string;
}

/** One POST through `agent` (keep-alive), resolving with the whole answer. Bounded by `timeoutMs`. */
export function post(agent: http.Agent, url: string, body: string, timeoutMs = 10000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`POST ${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** Rejects after `ms` unless `promise` settles first (the timer never keeps the process alive). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc (Linux). */
export function processMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Bytes of the files under `dir` (apparent size), recursively; 0 when it does not exist. */
export function dirBytes(dir: string): number {
  let total = 0;
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of names) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(full);
    else {
      try {
        total += fs.statSync(full).size;
      } catch {
        // deleted meanwhile
      }
    }
  }
  return total;
}

export const mb = (bytes: number): number => round(bytes / 1024 / 1024, 1);

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memTotalGb: number;
  freeG: string;
  node: string;
  nodeRed: string;
  platform: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  let freeG = '';
  try {
    freeG = execFileSync('free', ['-g'], { encoding: 'utf8' }).trim();
  } catch {
    freeG = 'n/a';
  }
  let nproc = os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // os.cpus() it is
  }
  return {
    nproc,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memTotalGb: round(os.totalmem() / 1024 ** 3, 1),
    freeG,
    node: process.version,
    // The Node-RED the benchmark processes run (NODE_RED_PATH, else the devDependency).
    nodeRed: (JSON.parse(fs.readFileSync(path.join(defaultNodeRedDir, 'package.json'), 'utf8')) as { version: string }).version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((l) => round(l, 2)),
  };
}

/** `node bench/<name>.js`: runs one benchmark on its own and prints its figures as a table. */
export function runStandalone(entry: NodeModule, run: () => Promise<object>): void {
  if (require.main !== entry) return;
  run().then(
    (figures) => {
      console.table(figures);
      // Some benchmarks leave keep-alive sockets behind; the figures are out.
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
