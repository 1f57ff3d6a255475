// findface-filter ("webhook filter"): FindFace's webhook filters on face
// events. Parsing, checking and the predicate live in lib/filter.ts; event
// shapes are read by lib/event.ts.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { acknowledge } from '../lib/event/acknowledgement';
import { cameraGroupsStatusText } from '../lib/findface/camera-groups';
import type { CameraGroupsLease } from '../lib/findface/server-handle';
import { findFaceServer } from '../shell/config-node';
import { ThrottledStatus } from '../shell/status';
import { problemText as nodeProblemText, refuseEveryInput } from '../shell/node-errors';
import { EventProperty, EventPropertyDef, messageProperty, parseEventProperty, setMessageProperty } from '../shell/event-property';
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

interface FilterDef extends NodeDef, EventPropertyDef {
  filters?: string;
  outputs?: number | string;
  cameraGroups?: string;
  /** Optional findface-server config node: camera groups from FindFace's camera list. */
  server?: string;
}

/** How long an event may wait for the server's camera list to load. */
const GROUPS_READY_MS = 2000;

export = function (RED: NodeAPI) {
  const text = (key: string, params?: Record<string, string | number>) => RED._(`findface-filter.${key}`, params);
  const problemText = (problem: ConfigProblem) => nodeProblemText(RED, 'findface-filter', problem);

  /** The compiled filter, or the configuration error to report on every message. */
  function configure(config: FilterDef, serverGroups?: GroupResolver): { filter: CompiledFilter; outputs: 1 | 2; property: EventProperty } | { error: string } {
    const outputs = config.outputs === undefined ? 1 : Number(config.outputs);
    if (outputs !== 1 && outputs !== 2) return { error: text('errors.bad-outputs', { value: String(config.outputs) }) };
    // A message property only: the passing events are written back into it, and a context key is shared by every message.
    const property = parseEventProperty(RED.util, config, ['msg']);
    if (!property.ok) return { error: nodeProblemText(RED, 'findface-filter', property.problem) };
    const spec = parseFilters(config.filters ?? '{}');
    if (!spec.ok) return { error: problemText(spec.problem) };
    const groups = parseCameraGroups(config.cameraGroups);
    if (!groups.ok) return { error: problemText(groups.problem) };
    // The node's own map comes first; the findface-server's camera list after it.
    const resolvers = serverGroups ? [groupsFromMap(groups.value), serverGroups] : [groupsFromMap(groups.value)];
    return { filter: compileFilter(spec.value, firstKnownGroup(...resolvers)), outputs, property: property.value };
  }

  function FindFaceFilterNode(this: Node, config: FilterDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let lease: CameraGroupsLease | undefined;
    let serverProblem: string | undefined;
    if (config.server) {
      const server = findFaceServer(RED, config.server);
      if (!server) serverProblem = text('errors.no-server');
      else if (server.configError) serverProblem = text('errors.server-config', { error: server.configError });
      else lease = server.acquireCameraGroups();
    }
    const serverGroups = lease ? (cameraId: number) => lease!.groups.groupOf(cameraId) : undefined;
    const setup = serverProblem ? { error: serverProblem } : configure(config, serverGroups);

    if ('error' in setup) {
      // Never a silent pass-all or drop-all: every message gets the error, so Catch nodes see it.
      refuseEveryInput(node, setup.error);
      node.on('close', () => lease?.release());
      return;
    }

    const { filter, outputs, property } = setup;
    const summary = filterSummary(filter.spec, (name: SummaryWord) => text(`summary.${name}`));
    let passed = 0;
    let failed = 0;
    let unknownGroup = 0;

    const status = new ThrottledStatus(node, () => {
      let counts = `${text('status.passed')} ${passed} · ${text('status.failed')} ${failed}`;
      if (unknownGroup > 0) counts += ` · ${text('status.unknownGroup')} ${unknownGroup}`;
      const groupsFailed = lease?.groups.status.state === 'failed';
      if (lease && (groupsFailed || lease.groups.status.state === 'loading'))
        counts += ` · ${text('status.cameras')} ${cameraGroupsStatusText(lease.groups.status)}`;
      const warn = unknownGroup > 0 || filter.emptyKeys.length > 0 || groupsFailed;
      return { fill: warn ? 'yellow' : 'green', shape: 'dot', text: `${counts} · ${summary}` };
    });
    const scheduleStatus = () => status.request();

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
      const value = messageProperty(RED.util, msg, property);
      if (value === undefined) {
        done(new Error(text('errors.no-event', { property: property.label })));
        return;
      }
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          const problem = eventProblem(value[index]);
          if (problem) {
            done(notEvent(`${property.label}[${index}]`, problem));
            return;
          }
        }
        const passing: FaceEvent[] = [];
        const failing: FaceEvent[] = [];
        for (const event of value as FaceEvent[]) (judge(event) ? passing : failing).push(event);
        scheduleStatus();
        const second = outputs === 2 && failing.length > 0;
        if (passing.length > 0 && second) {
          // The copy for output 2 is made without the events, which each output then gets its own share of.
          setMessageProperty(RED.util, msg, property, null);
          const other = RED.util.cloneMessage(msg as NodeMessage);
          setMessageProperty(RED.util, other, property, failing);
          setMessageProperty(RED.util, msg, property, passing);
          send([msg, other]);
        } else if (passing.length > 0) {
          setMessageProperty(RED.util, msg, property, passing);
          send(outputs === 2 ? [msg, null] : msg);
        } else if (second) {
          setMessageProperty(RED.util, msg, property, failing);
          send([null, msg]);
        } else {
          acknowledge(msg);
        }
        done();
        return;
      }
      const problem = eventProblem(value);
      if (problem) {
        done(notEvent(property.label, problem));
        return;
      }
      const pass = judge(value as FaceEvent);
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
      status.close();
      lease?.release();
      done();
    });

    status.now();
  }

  RED.nodes.registerType('findface-filter', FindFaceFilterNode);
};
