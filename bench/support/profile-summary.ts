// Summarises V8 .cpuprofile files (node --cpu-prof): self time by function
// and by owner (our package, Node-RED, other packages, Node.js itself, GC).
// `node bench/support/profile-summary.js <file-or-dir> [top] [--all | --phases]`
// (Node-RED's start-up, up to the first idle stretch, is left out unless
// --all; --phases: one summary per busy phase between idle stretches).
import fs from 'fs';
import path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionCost {
  name: string;
  where: string;
  owner: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  /** Start-up left out (up to the first idle stretch). */
  skippedStartupMs: number;
  totalMs: number;
  busyMs: number;
  byOwner: Record<string, { ms: number; share: number }>;
  top: FunctionCost[];
}

const OURS = 'node-red-contrib-findface';

export function ownerOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : 'native';
  if (url.includes(`/${OURS}/`) || url.includes('/work/main/nodes/')) return 'ours';
  if (url.startsWith('node:')) return 'node.js';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url);
  if (match) return match[1].startsWith('@node-red/') || match[1] === 'node-red' ? `node-red (${match[1]})` : match[1];
  return 'other';
}

function shortUrl(url: string): string {
  const at = url.lastIndexOf('node_modules/');
  return at >= 0 ? url.slice(at + 'node_modules/'.length) : url.replace(/^file:\/\//, '');
}

/**
 * Sample index ranges of busy phases: the profile cut at every stretch of at
 * least `gapMs` idle (the benches pause between phases: start-up, intake,
 * drain ...).
 */
function phaseRanges(profile: Profile, idleIds: Set<number>, gapMs: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = 0;
  let idleStart = -1;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (idleIds.has(profile.samples[i])) {
      if (idleStart < 0) idleStart = i;
      idleUs += profile.timeDeltas[i] ?? 0;
    } else {
      if (idleStart >= 0 && idleUs >= gapMs * 1000) {
        if (idleStart > start) ranges.push([start, idleStart]);
        start = i;
      }
      idleStart = -1;
      idleUs = 0;
    }
  }
  const end = idleStart >= 0 && idleUs >= gapMs * 1000 ? idleStart : profile.samples.length;
  if (end > start) ranges.push([start, end]);
  return ranges;
}

function load(file: string) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return { profile, byId, idleIds };
}

function summariseRange(file: string, loaded: ReturnType<typeof load>, from: number, to: number, top: number): ProfileSummary {
  const { profile, byId } = loaded;
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = from; i < to; i++) {
    const id = profile.samples[i];
    const delta = profile.timeDeltas[i] ?? 0;
    totalUs += delta;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  let skippedUs = 0;
  for (let i = 0; i < from; i++) skippedUs += profile.timeDeltas[i] ?? 0;
  const functions = new Map<string, FunctionCost>();
  const owners = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    const owner = ownerOf(url, name);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, owner, selfMs: 0, share: 0 };
    entry.selfMs += us / 1000;
    functions.set(key, entry);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const list = [...functions.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const entry of list) {
    entry.share = +(entry.selfMs / (busyUs / 1000)).toFixed(3);
    entry.selfMs = +entry.selfMs.toFixed(1);
  }
  const byOwner: ProfileSummary['byOwner'] = {};
  for (const [owner, us] of [...owners].sort((a, b) => b[1] - a[1])) {
    byOwner[owner] = { ms: +(us / 1000).toFixed(1), share: +(us / busyUs).toFixed(3) };
  }
  return {
    file,
    skippedStartupMs: +(skippedUs / 1000).toFixed(1),
    totalMs: +(totalUs / 1000).toFixed(1),
    busyMs: +(busyUs / 1000).toFixed(1),
    byOwner,
    top: list,
  };
}

/** The whole profile after Node-RED's start-up (the first busy phase), or all of it (`skipStartup: false`). */
export function summarise(file: string, top = 25, options: { skipStartup?: boolean; gapMs?: number } = {}): ProfileSummary {
  const loaded = load(file);
  const ranges = phaseRanges(loaded.profile, loaded.idleIds, options.gapMs ?? 700);
  const from = options.skipStartup === false || ranges.length < 2 ? 0 : ranges[1][0];
  return summariseRange(file, loaded, from, loaded.profile.samples.length, top);
}

/** Each busy phase after start-up (cut at idle stretches of `gapMs`) with at least `minBusyMs` of work. */
export function phases(file: string, top = 25, options: { gapMs?: number; minBusyMs?: number } = {}): ProfileSummary[] {
  const loaded = load(file);
  const ranges = phaseRanges(loaded.profile, loaded.idleIds, options.gapMs ?? 700).slice(1);
  return ranges.map(([from, to]) => summariseRange(file, loaded, from, to, top)).filter((s) => s.busyMs >= (options.minBusyMs ?? 300));
}

/** The .cpuprofile files under `dir` that come from a Node-RED process (red.js among their scripts). */
export function nodeRedProfiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(dir, name))
    .filter((file) => fs.readFileSync(file, 'utf8').includes('node-red/red.js'));
}

export function format(summary: ProfileSummary): string {
  const lines = [`${path.basename(summary.file)} from ${summary.skippedStartupMs} ms: ${summary.busyMs} ms busy of ${summary.totalMs} ms`];
  lines.push('  by owner (self time, share of busy):');
  for (const [owner, { ms, share }] of Object.entries(summary.byOwner).slice(0, 12)) {
    lines.push(`    ${(share * 100).toFixed(1).padStart(5)} %  ${String(ms).padStart(9)} ms  ${owner}`);
  }
  lines.push('  hottest functions (self time):');
  for (const f of summary.top) {
    lines.push(`    ${(f.share * 100).toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(9)} ms  ${f.name}  ${f.where}  [${f.owner}]`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const target = process.argv[2];
  const top = Number(process.argv[3] ?? 25);
  const skipStartup = !process.argv.includes('--all');
  if (!target) {
    console.error('usage: node bench/support/profile-summary.js <file.cpuprofile | dir> [top]');
    process.exit(2);
  }
  const files = fs.statSync(target).isDirectory()
    ? fs
        .readdirSync(target)
        .filter((n) => n.endsWith('.cpuprofile'))
        .map((n) => path.join(target, n))
    : [target];
  const split = process.argv.includes('--phases');
  for (const file of files) {
    const list = split ? phases(file, top) : [summarise(file, top, { skipStartup })];
    for (const summary of list) console.log(format(summary) + '\n');
  }
}
