// A bare Node.js http server answering 200 to every request after reading its
// body, in a child process of its own on 127.0.0.1 (so that it does not share
// an event loop with the load generator, as a server in the bench process
// would). Stopped by the pid of the child started here.
import { ChildProcess, spawn } from 'child_process';
import { within } from './common';

const SCRIPT = `
const http = require('http');
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end()); });
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export interface BareServer {
  url: string;
  pid: number;
  close(): Promise<void>;
}

export async function startBareServer(): Promise<BareServer> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await within(
    new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /port (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
    }),
    10000,
    'bare server start',
  );
  return {
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid!,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await within(exited, 5000, 'bare server stop').catch(() => {
        child.kill('SIGKILL');
      });
    },
  };
}
