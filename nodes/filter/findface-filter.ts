// findface-filter ("webhook filter"): FindFace's webhook filters on face
// events. Parsing, checking and the predicate live in lib/filter.ts; event
// shapes are read by lib/event.ts.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { acknowledge } from '../lib/event/acknowledgement';
import { cameraGroupsStatusText } from '../lib/findface/camera-groups';
import type { CameraGroupsLease, FindFaceServerHandle } from '../lib/findface/server-handle';
import { eventProblem, FaceEvent, normaliseEvent } from '../lib/event/event';
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
  GroupResolver,
} from '../lib/filter/filter';

interface FilterDef extends NodeDef {
  filters?: string;
  outputs?: number | string;
  cameraGroups?: string;
  /** Optional findface-server config node: camera groups from FindFace's camera list. */
  server?: string;
}

/** How long an event may wait for the server's camera list to load. */
const GROUPS_READY_MS = 2000;

const STATUS_INTERVAL_MS = 500;

export = function (RED: NodeAPI) {
  const text = (key: string, params?: Record<string, string | number>) => RED._(`findface-filter.${key}`, params);
  const problemText = (problem: ConfigProblem) => text(`errors.${problem.code}`, { ...problem } as Record<string, string | number>);

  /** The compiled filter, or the configuration error to report on every message. */
  function configure(config: FilterDef, serverGroups?: GroupResolver): { filter: CompiledFilter; outputs: 1 | 2 } | { error: string } {
    const outputs = config.outputs === undefined ? 1 : Number(config.outputs);
    if (outputs !== 1 && outputs !== 2) return { error: text('errors.bad-outputs', { value: String(config.outputs) }) };
    const spec = parseFilters(config.filters ?? '{}');
    if (!spec.ok) return { error: problemText(spec.problem) };
    const groups = parseCameraGroups(config.cameraGroups);
    if (!groups.ok) return { error: problemText(groups.problem) };
    // The node's own map comes first; the findface-server's camera list after it.
    const resolvers = serverGroups ? [groupsFromMap(groups.value), serverGroups] : [groupsFromMap(groups.value)];
    return { filter: compileFilter(spec.value, firstKnownGroup(...resolvers)), outputs };
  }

  function FindFaceFilterNode(this: Node, config: FilterDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let lease: CameraGroupsLease | undefined;
    let serverProblem: string | undefined;
    if (config.server) {
      const server = RED.nodes.getNode(config.server) as unknown as FindFaceServerHandle | null;
      if (!server) serverProblem = text('errors.no-server');
      else if (server.configError) serverProblem = text('errors.server-config', { error: server.configError });
      else lease = server.acquireCameraGroups();
    }
    const serverGroups = lease ? (cameraId: number) => lease!.groups.groupOf(cameraId) : undefined;
    const setup = serverProblem ? { error: serverProblem } : configure(config, serverGroups);

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
      node.on('close', () => lease?.release());
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
      const groupsFailed = lease?.groups.status.state === 'failed';
      if (lease && (groupsFailed || lease.groups.status.state === 'loading')) counts += ` · ${text('status.cameras')} ${cameraGroupsStatusText(lease.groups.status)}`;
      const warn = unknownGroup > 0 || filter.emptyKeys.length > 0 || groupsFailed;
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
      const outcome: Outcome = filter.test(normaliseEvent(event), event);
      if (outcome === 'pass') {
        passed++;
        return true;
      }
      failed++;
      if (outcome === 'unknown-group') unknownGroup++;
      return false;
    };

    const notEvent = (where: string, problem: string) => new Error(`${text('errors.not-event')}: ${where} ${problem}`);

    type Send = (msg: NodeMessage | Array<NodeMessage | null>) => void;
    const handle = (msg: NodeMessageInFlow, send: Send, done: (error?: Error) => void) => {
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
    };

    // Until the server's camera list has loaded once, events wait for it (at most GROUPS_READY_MS).
    let groupsSettled = !lease || filter.spec.camera_group_in === undefined;
    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      if (lease && (msg as { refresh?: unknown }).refresh === true) {
        void lease.groups.refresh({ force: true }).finally(scheduleStatus);
        done();
        return;
      }
      if (groupsSettled) {
        handle(msg, send, done);
        return;
      }
      void lease!.groups.ready(GROUPS_READY_MS).then(() => {
        groupsSettled = true;
        handle(msg, send, done);
      });
    });

    node.on('close', (done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      lease?.release();
      done();
    });

    showStatus();
  }

  RED.nodes.registerType('findface-filter', FindFaceFilterNode);
};
