// A real redis-server for the tests: Debian's `redis-server` on 127.0.0.1, a
// free port, a temporary directory and the append-only file on (as a site
// that must not lose its queue would run it). Tests that need it skip with a
// one-line reason on a machine without it; `.ci/run` installs it.
import { ChildProcess, execFileSync, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

export function redisServerBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, 'redis-server');
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

export const NO_REDIS_REASON = 'redis-server is not installed (Debian package redis-server; .ci/run installs it)';

/**
 * redis-server options for one ACL user and no anonymous access. The default
 * user is disabled (nobody can log in as it, no connection is let in without
 * AUTH) but keeps its permissions: Redis replays its append-only file as the
 * default user, and before the fix of redis/redis#14545 (Debian's 7.0 has it)
 * it checks every replayed MULTI/EXEC against that user's permissions and
 * silently drops the refused ones: every Lua script with more than one write
 * (each of the queue's appends) would be gone after a restart.
 */
export function aclUserArgs(user: string, password: string): string[] {
  return ['--user', 'default', 'off', 'resetpass', '~*', '&*', '+@all', '--user', user, 'on', `>${password}`, '~*', '&*', '+@all'];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  private process: ChildProcess | undefined;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ff-redis-'));
  port = 0;
  /** Everything redis-server printed, every start (its own log: what it loaded, from which files). */
  log = '';

  /**
   * `extraArgs`: more redis-server options, e.g. an ACL user (`--user alice on >secret ~* &* +@all`).
   * `tls`: serve TLS only (no plain port), with this certificate and key, and this CA for clients that present one.
   */
  constructor(
    private readonly extraArgs: string[] = [],
    private readonly tls?: { cert: string; key: string; ca: string },
  ) {}

  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  /** Starts it (again, on the same port and data after a `stop`). */
  async start(): Promise<void> {
    const binary = redisServerBinary();
    if (!binary) throw new Error(NO_REDIS_REASON);
    if (!this.port) this.port = await freePort();
    const args = [
      '--bind',
      '127.0.0.1',
      ...(this.tls
        ? [
            '--port',
            '0',
            '--tls-port',
            String(this.port),
            '--tls-cert-file',
            this.tls.cert,
            '--tls-key-file',
            this.tls.key,
            '--tls-ca-cert-file',
            this.tls.ca,
            '--tls-auth-clients',
            'optional',
          ]
        : ['--port', String(this.port)]),
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--protected-mode',
      'yes',
      ...this.extraArgs,
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        this.log += chunk.toString();
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          // A command refused while loading the append-only file is data Redis dropped: never start on it silently.
          const refused = output.split('\n').filter((line) => line.includes('AOF-loading-client'));
          if (refused.length) reject(new Error(`redis-server dropped ${refused.length} commands of its append-only file while loading it:\n${refused[0]}`));
          else resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  }

  /** Stops it: `kill -9` (a crash) or SIGTERM (a clean shutdown, AOF flushed). */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** Runs redis-cli-like commands without a client: for test assertions only. */
  cli(...args: string[]): string {
    return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...this.cliAuth, ...args], {
      encoding: 'utf8',
      env: this.cliPassword ? { ...process.env, REDISCLI_AUTH: this.cliPassword } : process.env,
    }).trim();
  }

  /** What `cli` authenticates with, for a server started with an ACL user. */
  cliAuth: string[] = [];
  cliPassword = '';

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
