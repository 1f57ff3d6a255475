// findface-filter ("webhook filter"): FindFace's webhook filters on face
// events. Parsing, checking and the predicate live in lib/filter.ts; event
// shapes are read by lib/event.ts.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { acknowledge } from './lib/acknowledgement';
import { eventProblem, FaceEvent, normaliseEvent } from './lib/event';
import {
  CompiledFilter,
  compileFilter,
  ConfigProblem,
  filterSummary,
  firstKnownGroup,
  groupsFromMap,
  Outcome,
  parseCameraGroups,
  parseFilters,
  SummaryWord,
} from './lib/filter';

interface FilterDef extends NodeDef {
  filters?: string;
  outputs?: number | string;
  cameraGroups?: string;
}

const STATUS_INTERVAL_MS = 500;

export = function (RED: NodeAPI) {
  const text = (key: string, params?: Record<string, string | number>) => RED._(`findface-filter.${key}`, params);
  const problemText = (problem: ConfigProblem) => text(`errors.${problem.code}`, { ...problem } as Record<string, string | number>);

  /** The compiled filter, or the configuration error to report on every message. */
  function configure(config: FilterDef): { filter: CompiledFilter; outputs: 1 | 2 } | { error: string } {
    const outputs = config.outputs === undefined ? 1 : Number(config.outputs);
    if (outputs !== 1 && outputs !== 2) return { error: text('errors.bad-outputs', { value: String(config.outputs) }) };
    const spec = parseFilters(config.filters ?? '{}');
    if (!spec.ok) return { error: problemText(spec.problem) };
    const groups = parseCameraGroups(config.cameraGroups);
    if (!groups.ok) return { error: problemText(groups.problem) };
    // The node's own map comes first; groups from a findface-server config node would follow it.
    return { filter: compileFilter(spec.value, firstKnownGroup(groupsFromMap(groups.value))), outputs };
  }

  function FindFaceFilterNode(this: Node, config: FilterDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const setup = configure(config);

    if ('error' in setup) {
      const error = new Error(setup.error);
      node.status({ fill: 'red', shape: 'ring', text: setup.error.slice(0, 100) });
      node.error(setup.error);
      // Never a silent pass-all or drop-all: every message gets the error, so Catch nodes see it.
      node.on('input', (msg: NodeMessageInFlow, _send, done) => {
        // A source waiting for its events to be queued must not answer 200 for these.
        acknowledge(msg, error);
        done(error);
      });
      return;
    }

    const { filter, outputs } = setup;
    const summary = filterSummary(filter.spec, (name: SummaryWord) => text(`summary.${name}`));
    let passed = 0;
    let failed = 0;
    let unknownGroup = 0;
    let statusTimer: NodeJS.Timeout | undefined;
    let closed = false;

    const showStatus = () => {
      let counts = `${text('status.passed')} ${passed} · ${text('status.failed')} ${failed}`;
      if (unknownGroup > 0) counts += ` · ${text('status.unknownGroup')} ${unknownGroup}`;
      const warn = unknownGroup > 0 || filter.emptyKeys.length > 0;
      node.status({ fill: warn ? 'yellow' : 'green', shape: 'dot', text: `${summary} · ${counts}` });
    };
    /** Redrawn at most every STATUS_INTERVAL_MS, so a busy node is not slowed by it. */
    const scheduleStatus = () => {
      if (statusTimer || closed) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        showStatus();
      }, STATUS_INTERVAL_MS);
    };

    const judge = (event: FaceEvent): boolean => {
      const outcome: Outcome = filter.test(normaliseEvent(event));
      if (outcome === 'pass') {
        passed++;
        return true;
      }
      failed++;
      if (outcome === 'unknown-group') unknownGroup++;
      return false;
    };

    const notEvent = (where: string, problem: string) => new Error(`${text('errors.not-event')}: ${where} ${problem}`);

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      const payload = msg.payload;
      if (Array.isArray(payload)) {
        for (let index = 0; index < payload.length; index++) {
          const problem = eventProblem(payload[index]);
          if (problem) {
            done(notEvent(`msg.payload[${index}]`, problem));
            return;
          }
        }
        const passing: FaceEvent[] = [];
        const failing: FaceEvent[] = [];
        for (const event of payload as FaceEvent[]) (judge(event) ? passing : failing).push(event);
        scheduleStatus();
        const second = outputs === 2 && failing.length > 0;
        if (passing.length > 0 && second) {
          const other = RED.util.cloneMessage({ ...msg, payload: null } as NodeMessage);
          other.payload = failing;
          msg.payload = passing;
          send([msg, other]);
        } else if (passing.length > 0) {
          msg.payload = passing;
          send(outputs === 2 ? [msg, null] : msg);
        } else if (second) {
          msg.payload = failing;
          send([null, msg]);
        } else {
          acknowledge(msg);
        }
        done();
        return;
      }
      const problem = eventProblem(payload);
      if (problem) {
        done(notEvent('msg.payload', problem));
        return;
      }
      const pass = judge(payload as FaceEvent);
      scheduleStatus();
      if (pass) send(outputs === 2 ? [msg, null] : msg);
      else if (outputs === 2) send([null, msg]);
      // Dropped by the filter: taken care of, as far as a waiting source is concerned.
      else acknowledge(msg);
      done();
    });

    node.on('close', (done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      done();
    });

    showStatus();
  }

  RED.nodes.registerType('findface-filter', FindFaceFilterNode);
};
