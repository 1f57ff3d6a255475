// findface-access ("door access"): one node per door, between the face events
// and the door controller. The decision is lib/access/decision.ts, the
// properties are checked by lib/access/access-config.ts, the trail on disk is
// lib/access/audit-trail.ts; this file only adapts them to Node-RED.
import os from 'os';
import path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { acknowledge } from '../lib/event/acknowledgement';
import { eventProblem, FaceEvent } from '../lib/event/event';
import type { CameraGroupsLease, FindFaceServerHandle } from '../lib/findface/server-handle';
import { systemClock } from '../lib/common/clock';
import { childPath, nodeFileName } from '../lib/common/node-files';
import { AccessDef, AccessProblem, parseAccessConfig } from '../lib/access/access-config';
import { AccessRules, AccessState, decide, Decision, initialState, skewWarning } from '../lib/access/decision';
import { auditRecord } from '../lib/access/audit-record';
import { AuditTrail } from '../lib/access/audit-trail';
import { HTTP_ADMIN_URL_ENV, HTTP_NODE_URL_ENV, httpNodeUrl } from '../lib/access/http-node-url';
import { EventPropertyDef, messageProperty, parseEventProperty } from '../shell/event-property';
import { problemText as nodeProblemText } from '../shell/node-errors';
import { redisRef } from '../lib/redis/redis-config';
import { claimFirst } from '../lib/redis/shared-state';
import { RedisHandle, resolveRedis } from '../redis/redis-handle';
import { registerAuditEndpoint } from './audit-endpoint';
import { accessStatus } from './access-status';
import { isoTime } from '../lib/common/iso-time';

interface AccessNodeDef extends NodeDef, AccessDef, EventPropertyDef {
  /** Optional findface-server config node: camera groups for the allow filter. */
  server?: string;
}

const STATUS_INTERVAL_MS = 500;
const AGO_TICK_MS = 1000;

/** Live nodes' trails, so that the admin endpoint can flush what is buffered before it reads. */
const liveTrails = new Map<string, AuditTrail>();

/** Whether the URLs were in the environment before this package set them (then the user's values stand). */
const userSetHttpNodeUrl = process.env[HTTP_NODE_URL_ENV] !== undefined;
const userSetAdminUrl = process.env[HTTP_ADMIN_URL_ENV] !== undefined;

export = function (RED: NodeAPI) {
  // For flows that call this Node-RED's own http in routes (lib/access/http-node-url.ts).
  const settings = RED.settings as unknown as Record<string, unknown>;
  const nodeUrl = httpNodeUrl(settings);
  const adminUrl = httpNodeUrl(settings, 'httpAdminRoot');
  if (!userSetHttpNodeUrl && nodeUrl !== undefined) process.env[HTTP_NODE_URL_ENV] = nodeUrl;
  if (!userSetAdminUrl && adminUrl !== undefined) process.env[HTTP_ADMIN_URL_ENV] = adminUrl;
  const text = (key: string, params?: Record<string, string | number>) => RED._(`findface-access.${key}`, params);
  const problemText = (problem: AccessProblem) =>
    RED._(`${problem.namespace}.errors.${problem.problem.code}`, { ...problem.problem } as Record<string, string | number>);
  const auditRoot = () => path.join((RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red'), 'findface-audit');
  const auditDir = (id: string) => childPath(auditRoot(), nodeFileName(id));

  function FindFaceAccessNode(this: Node, config: AccessNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let lease: CameraGroupsLease | undefined;
    let serverProblem: string | undefined;
    if (config.server) {
      const server = RED.nodes.getNode(config.server) as unknown as FindFaceServerHandle | null;
      if (!server) serverProblem = RED._('findface-filter.errors.no-server');
      else if (server.configError) serverProblem = RED._('findface-filter.errors.server-config', { error: server.configError });
      else lease = server.acquireCameraGroups();
    }
    // Cooldowns shared with other instances (property `redis`): never a silent local fallback.
    const redisId = redisRef((config as { redis?: unknown }).redis);
    const resolved = redisId ? resolveRedis(RED, redisId) : undefined;
    if (resolved && 'error' in resolved) serverProblem = serverProblem ?? resolved.error;
    const shared: RedisHandle | undefined = resolved && 'handle' in resolved ? resolved.handle : undefined;
    const parsed = serverProblem ? undefined : parseAccessConfig(config, lease ? (cameraId) => lease!.groups.groupOf(cameraId) : undefined);
    // A message property only: a door decides on the event that arrived, never on one a context key still holds.
    const property = parseEventProperty(RED.util, config, ['msg']);
    if (!parsed || !parsed.ok || !property.ok) {
      const propertyProblem = property.ok ? undefined : nodeProblemText(RED, 'findface-access', property.problem);
      const message = serverProblem ?? propertyProblem ?? problemText((parsed as { ok: false; problem: AccessProblem }).problem);
      const error = new Error(message);
      node.status({ fill: 'red', shape: 'ring', text: message.slice(0, 100) });
      node.error(message);
      // A door that cannot decide stays shut, and says so for every event.
      node.on('input', (msg: NodeMessageInFlow, _send, done) => {
        acknowledge(msg, error);
        done(error);
      });
      node.on('close', () => lease?.release());
      return;
    }

    const { door } = parsed.value;
    const rules: AccessRules = { ...parsed.value.rules, startedAtMs: systemClock.now() };
    let state: AccessState = initialState();
    let auditProblem: Error | null = null;
    const trail = new AuditTrail({
      dir: auditDir(node.id),
      maxBytes: parsed.value.auditMaxBytes,
      keepDays: parsed.value.auditDays,
      onProblem: (error) => {
        auditProblem = error;
        if (error) node.warn(text('errors.audit-write', { error: error.message }));
        scheduleStatus();
      },
    });
    liveTrails.set(node.id, trail);

    const counts = { granted: 0, denied: 0, cooldown: 0 };
    let last: { decision: Decision; atMono: number } | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let closed = false;
    let shown = '';

    const showStatus = () => {
      const status = accessStatus(text, {
        door,
        last,
        counts,
        nowMono: systemClock.monotonic(),
        skew: skewWarning(state),
        auditFailing: Boolean(auditProblem) || trail.dropped > 0,
        dropped: trail.dropped,
      });
      if (status.text === shown) return;
      shown = status.text;
      node.status(status);
    };
    const scheduleStatus = () => {
      if (statusTimer || closed) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        showStatus();
      }, STATUS_INTERVAL_MS);
    };
    // "3 s ago" moves on with time, not only with events.
    const agoTicker = setInterval(() => {
      if (last) showStatus();
    }, AGO_TICK_MS);

    type Send = (msg: NodeMessage | Array<NodeMessage | null>) => void;
    const judge = (msg: NodeMessageInFlow, event: FaceEvent, send: Send, own: boolean) => {
      const time = { wallMs: systemClock.now(), monoMs: systemClock.monotonic() };
      const result = decide(rules, state, event, time);
      state = result.state;
      const local = result.decision;
      if (!shared || local.kind !== 'granted') return settle(msg, event, send, own, time, local);
      // Another instance may have opened for this person within the cooldown: the first claim in Redis opens.
      claimFirst(shared.redis, shared.key('access', node.id, 'person', String(local.personId)), Math.max(1, rules.cooldownMs)).then(
        (won) => settle(msg, event, send, own, time, won ? local : { ...local, kind: 'cooldown', remainingMs: rules.cooldownMs }),
        // Not sure it would be the only open: the door stays shut, as when it cannot hold its state.
        () => settle(msg, event, send, own, time, { ...local, kind: 'denied', reason: 'busy' }),
      );
    };

    const settle = (msg: NodeMessageInFlow, event: FaceEvent, send: Send, own: boolean, time: { wallMs: number; monoMs: number }, decision: Decision) => {
      if (closed) return;
      counts[decision.kind]++;
      last = { decision, atMono: time.monoMs };
      trail.append(auditRecord(door, decision, event, time.wallMs));
      if (decision.kind === 'granted') {
        const out = (own ? msg : RED.util.cloneMessage(msg)) as NodeMessage & Record<string, unknown>;
        out.payload = {
          door,
          personId: decision.personId,
          cameraId: decision.cameraId,
          eventId: decision.eventId,
          eventAge: decision.ageMs === undefined ? null : Math.round(decision.ageMs) / 1000,
          decidedAt: isoTime(time.wallMs),
        };
        out.event = event;
        out.topic = door;
        send([out, null]);
      } else if (decision.kind === 'denied') {
        const out = (own ? msg : RED.util.cloneMessage(msg)) as NodeMessage & Record<string, unknown>;
        out.payload = event;
        out.reason = decision.reason;
        send([null, out]);
      }
      if (shared) scheduleStatus();
    };

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      try {
        const { label } = property.value;
        const value = messageProperty(RED.util, msg, property.value);
        const events = Array.isArray(value) ? value : [value];
        for (let index = 0; index < events.length; index++) {
          const problem = value === undefined ? null : eventProblem(events[index]);
          if (value === undefined || problem) {
            const where = Array.isArray(value) ? `${label}[${index}]` : label;
            const error = new Error(problem ? `${text('errors.not-event')}: ${where} ${problem}` : text('errors.no-event', { property: label }));
            acknowledge(msg, error);
            done(error);
            return;
          }
        }
        // Decided now or never: the source may answer FindFace at once.
        acknowledge(msg);
        for (const event of events as FaceEvent[]) judge(msg, event, send, events.length === 1);
        scheduleStatus();
        done();
      } catch (error) {
        done(error as Error);
      }
    });

    node.on('close', (done: () => void) => {
      closed = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      clearInterval(agoTicker);
      lease?.release();
      if (liveTrails.get(node.id) === trail) liveTrails.delete(node.id);
      trail.close().then(done, (error: Error) => {
        node.warn(text('errors.audit-write', { error: error.message }));
        done();
      });
    });

    showStatus();
  }

  RED.nodes.registerType('findface-access', FindFaceAccessNode);

  registerAuditEndpoint(RED, auditDir, liveTrails);
};
