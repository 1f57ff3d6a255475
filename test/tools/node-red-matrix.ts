// Runs the test suites on every row of the matrix (test/tools/runtimes.ts):
// each suite in its own mocha process on the row's Node.js binary, with
// NODE_RED_PATH naming the row's Node-RED (test/support/helper.ts loads it
// for the node tests, test/support/node-red-process.ts runs its red.js for the
// end-to-end and editor tests). Node.js and Node-RED are installed under
// .cache/ on first use.
//
//   MATRIX_ROWS=5.0.7@24.22.3,3.1.15@system   only these rows (nodeRed@node)
//   MATRIX_SUITES=nodes                        only these suites
//   --install                                  only install every row's Node.js and Node-RED
//
// Prints how long each row and suite took and, after that summary, mocha's
// failure report of each failed suite again (CI shows the end of a long log),
// and exits non-zero when any failed.
import { spawn } from 'child_process';
import { MATRIX, MatrixRow, nodeBinary, nodeRedDir, repoRoot, rowName, Suite } from './runtimes';

const SUITE_ARGS: Record<Suite, string[]> = {
  nodes: ['test/nodes/**/*.test.js'],
  e2e: ['--timeout', '120000', 'test/e2e/**/*.test.js'],
  editor: ['--timeout', '60000', 'test/editor/**/*.test.js'],
};

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const wantedRows = list(process.env.MATRIX_ROWS);
const wantedSuites = list(process.env.MATRIX_SUITES);
for (const name of wantedSuites) if (!(name in SUITE_ARGS)) throw new Error(`MATRIX_SUITES: no suite "${name}" (${Object.keys(SUITE_ARGS).join(', ')})`);
const rows = MATRIX.filter((row) => wantedRows.length === 0 || wantedRows.includes(`${row.nodeRed}@${row.node}`));
if (rows.length === 0) throw new Error(`MATRIX_ROWS: none of ${wantedRows.join(', ')} is a row (${MATRIX.map((r) => `${r.nodeRed}@${r.node}`).join(', ')})`);

interface Outcome {
  row: string;
  suite: Suite;
  seconds: number;
  passed: boolean;
  failures: string;
}

const FAILURE_REPORT_CHARS = 12_000;

/** Mocha's report from its "N failing" line on, or the output's end when mocha died before one. */
function failureReport(output: string): string {
  const start = output.search(/^ *\d+ failing/m);
  const report = start >= 0 ? output.slice(start) : output;
  return report.length > FAILURE_REPORT_CHARS ? `[…]\n${report.slice(-FAILURE_REPORT_CHARS)}` : report;
}

/** Runs one suite, its output streamed through and kept for the failure report. */
function runSuite(node: string, args: string[], runtime: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(node, args, { cwd: repoRoot, stdio: ['inherit', 'pipe', 'pipe'], env: { ...process.env, NODE_RED_PATH: runtime } });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      chunks.push(chunk);
    });
    child.on('close', (status) => resolve({ status, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

async function runRow(row: MatrixRow): Promise<Outcome[]> {
  const suites = row.suites.filter((suite) => wantedSuites.length === 0 || wantedSuites.includes(suite));
  if (suites.length === 0) return [];
  const node = nodeBinary(row.node);
  const runtime = nodeRedDir(row.nodeRed);
  const name = rowName(row);
  const outcomes: Outcome[] = [];
  for (const suite of suites) {
    console.log(`\n=== ${suite} tests on ${name} ===`);
    const started = process.hrtime.bigint();
    const result = await runSuite(node, [require.resolve('mocha/bin/mocha.js'), ...SUITE_ARGS[suite]], runtime);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const passed = result.status === 0;
    outcomes.push({ row: name, suite, seconds, passed, failures: passed ? '' : failureReport(result.output) });
  }
  return outcomes;
}

if (process.argv.includes('--install')) {
  // npm test's pretest: every row's Node.js and Node-RED in place before any test reads them.
  for (const row of MATRIX) console.log(`${rowName(row)}: ${nodeBinary(row.node)}, ${nodeRedDir(row.nodeRed)}`);
  process.exit(0);
}

async function main(): Promise<void> {
  const outcomes: Outcome[] = [];
  for (const row of rows) outcomes.push(...(await runRow(row)));
  console.log('\nmatrix:');
  for (const outcome of outcomes) {
    console.log(`  ${outcome.passed ? 'pass' : 'FAIL'}  ${outcome.row.padEnd(32)} ${outcome.suite.padEnd(7)} ${outcome.seconds.toFixed(1).padStart(6)} s`);
  }
  for (const outcome of outcomes.filter((o) => !o.passed)) {
    console.log(`\n=== what failed: ${outcome.suite} tests on ${outcome.row} ===\n${outcome.failures}`);
  }
  process.exit(outcomes.every((outcome) => outcome.passed) ? 0 : 1);
}

void main();
