// findface-event-in ("face event in"): FindFace face events into a flow,
// received on a webhook URL or simulated. The checks live in
// lib/webhook-intake.ts and the events in lib/simulator.ts.
import buffer from 'buffer';
import type { NextFunction, Request, Response } from 'express';
import os from 'os';
import nodePath from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { ackGroup, ACK_PROPERTY } from '../lib/event/acknowledgement';
import { FaceEvent, normaliseEvent } from '../lib/event/event';
import type { Query } from '../lib/findface/findface-api';
import type { FindFaceServerHandle } from '../lib/findface/server-handle';
import { FileCursorStore, Poller, pollerOptionsProblem, PollerStatus, statusText } from '../lib/findface/poller';
import { compilePollSelection, parsePollFilters } from '../lib/findface/poll-filters';
import { createSimulator, eventsDue, EventShape, simulatorProblem, Simulator } from '../lib/source/simulator';
import { createWalkUpSimulator } from '../lib/source/walk-up';
import { captureRawBody, isLiteralPath, routeKey } from '../lib/source/raw-body-capture';
import { RecentIds } from '../lib/source/recent-ids';
import { parseSecrets } from '../lib/common/standard-webhooks';
import { adoptLegacyFile, childPath, nodeFileName } from '../lib/common/node-files';
import { IntakeResult, takeWebhookRequest } from '../lib/source/webhook-intake';
import { removeRoute } from '../shell/http-routes';

type Mode = 'webhook' | 'simulate' | 'poll';

interface EventInDef extends NodeDef {
  mode: Mode;
  path: string;
  maxBodyMb: number | string;
  rate: number | string;
  seed: string;
  cameras: string;
  dossiers: string;
  matchedRatio: number | string;
  shape: EventShape;
  /** Simulate mode: "steady" (default: independent events) or "walk-up" (each person a burst of frames, lib/source/walk-up.ts). */
  simulation?: 'steady' | 'walk-up';
  autostart: boolean;
  dedupWindowS: number | string;
  toleranceS: number | string;
  /** "emitted": answer 200 once the events are sent on; "queued": once senders have queued them all, else 503. */
  respond: 'emitted' | 'queued';
  queuedTimeoutS: number | string;
  /** Poll mode: the findface-server config node, seconds between polls, FindFace query filters (JSON), where a new node starts. */
  server: string;
  pollIntervalS: number | string;
  pollFilters: string;
  startAt: 'now' | 'beginning';
}

interface EventInCredentials {
  secret?: string;
  /** Standard Webhooks secrets (whsec_…), separated by spaces or commas: any one may sign. */
  signingSecrets?: string;
}

/** Webhook paths in use on httpNode (by route key: express ignores case), so a second node cannot silently shadow the first. */
const pathOwners = new Map<string, string>();

const STATUS_INTERVAL_MS = 500;
/** The largest body a Buffer can hold: the highest size limit that means anything. */
const MAX_BUFFER_BYTES = buffer.constants.MAX_LENGTH;
const WARN_INTERVAL_MS = 1000;
/** A stalled event loop must not make the simulator fire a burst. */
const MAX_CATCH_UP = 100;

function normalisePath(path: unknown): string {
  const trimmed = typeof path === 'string' ? path.trim() : '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function parseNumberList(text: unknown): number[] {
  return String(text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
}

/** A property's value for messages: text as it is, anything else as JSON. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

/**
 * A number property as the editor stores it: a number or numeric text.
 * Blank or missing: `fallback`. Booleans, arrays, objects: NaN, refused.
 */
function numberOf(value: unknown, fallback: number): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return fallback;
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? Number(value) : NaN;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export = function (RED: NodeAPI) {
  function FindFaceEventInNode(this: Node<EventInCredentials>, config: EventInDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const mode: Mode = config.mode ?? 'webhook';
    let received = 0;
    let lastError: string | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let closed = false;

    const metadata = (event: FaceEvent, source: Mode) => {
      const normalised = normaliseEvent(event);
      return {
        topic: `findface/camera/${normalised.cameraId}`,
        findface: {
          source,
          eventId: normalised.id,
          cameraId: normalised.cameraId,
          cameraGroupId: normalised.cameraGroupId ?? null,
          dossierId: normalised.dossierId,
          matched: normalised.matched,
          receivedAt: new Date().toISOString(),
        },
      };
    };

    // One send per message: Node-RED deep-clones all but the first message of a multi-message send.
    const sendEach = (messages: NodeMessage[]) => {
      for (const msg of messages) node.send(msg);
    };

    const messagesFor = (events: FaceEvent[], source: Mode): NodeMessage[] =>
      events.map((event) => ({ payload: event, ...metadata(event, source) }) as NodeMessage);

    /** Status is redrawn at most every STATUS_INTERVAL_MS, so a busy node is not slowed by it. */
    let showStatus: () => void = () => undefined;
    const scheduleStatus = () => {
      if (statusTimer || closed) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        showStatus();
      }, STATUS_INTERVAL_MS);
    };

    const fail = (message: string) => {
      node.status({ fill: 'red', shape: 'ring', text: message });
      node.error(message);
    };

    if (mode === 'webhook') {
      const path = normalisePath(config.path);
      const maxBodyMb = numberOf(config.maxBodyMb, 10);
      const dedupWindowS = numberOf(config.dedupWindowS, 0);
      const respondWhenQueued = config.respond === 'queued';
      const queuedTimeoutMs = numberOf(config.queuedTimeoutS, 10) * 1000;
      const toleranceS = numberOf(config.toleranceS, 300);
      const configPath: unknown = config.path;
      if (configPath !== undefined && configPath !== null && typeof configPath !== 'string') {
        fail(RED._('findface-event-in.errors.bad-path', { value: shown(configPath) }));
        return;
      }
      if (!configPath || !configPath.trim()) {
        fail(RED._('findface-event-in.errors.no-path'));
        return;
      }
      // A limit no Buffer can hold is no limit at all.
      if (!(maxBodyMb > 0) || maxBodyMb * 1024 * 1024 > MAX_BUFFER_BYTES) {
        fail(RED._('findface-event-in.errors.bad-size', { value: shown(config.maxBodyMb), max: Math.floor(MAX_BUFFER_BYTES / 1024 / 1024) }));
        return;
      }
      // A mistyped answer mode must not silently weaken "queued" to "emitted".
      if (config.respond !== undefined && config.respond !== null && config.respond !== 'emitted' && config.respond !== 'queued') {
        fail(RED._('findface-event-in.errors.bad-respond', { value: shown(config.respond) }));
        return;
      }
      if (!(dedupWindowS >= 0) || !(toleranceS > 0) || !(queuedTimeoutMs > 0)) {
        fail(RED._('findface-event-in.errors.bad-number', { value: [config.dedupWindowS, config.toleranceS, config.queuedTimeoutS].map(shown).join(' / ') }));
        return;
      }
      const ownerKey = routeKey(path);
      const owner = pathOwners.get(ownerKey);
      if (owner && owner !== node.id) {
        fail(RED._('findface-event-in.errors.path-in-use', { path, node: owner }));
        return;
      }
      pathOwners.set(ownerKey, node.id);
      const signingSecrets = parseSecrets(node.credentials?.signingSecrets);
      const options = {
        secret: node.credentials?.secret || undefined,
        signingSecrets,
        toleranceS,
        maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024),
      };
      const recentIds = dedupWindowS > 0 ? new RecentIds(dedupWindowS * 1000) : undefined;
      let duplicates = 0;
      let rejected = 0;
      let lastWarnAt = -Infinity;
      let warningsHeld = 0;

      showStatus = () => {
        let text = RED._('findface-event-in.status.listening', { path, count: received });
        if (duplicates) text += ` · ${RED._('findface-event-in.status.duplicates', { count: duplicates })}`;
        if (lastError) {
          node.status({ fill: 'yellow', shape: 'dot', text: `${text} · ${RED._('findface-event-in.status.rejected', { count: rejected })}: ${lastError}` });
        } else {
          node.status({ fill: 'green', shape: 'dot', text });
        }
      };

      const warnRejected = (result: Exclude<IntakeResult, { status: 200 }>, req: Request) => {
        rejected++;
        lastError = `${result.status} ${result.error}`.slice(0, 80);
        scheduleStatus();
        // A flood of bad requests must not flood the log: one line a second at most.
        const now = performance.now();
        if (now - lastWarnAt < WARN_INTERVAL_MS) {
          warningsHeld++;
          return;
        }
        const held = warningsHeld ? ` (${RED._('findface-event-in.status.more-rejected', { count: warningsHeld })})` : '';
        warningsHeld = 0;
        lastWarnAt = now;
        node.warn(RED._('findface-event-in.errors.rejected', { status: result.status, ip: req.ip ?? '', error: result.error }) + held);
      };

      const handler = (req: Request, res: Response, next: NextFunction) => {
        takeWebhookRequest(req, options).then(
          (result) => {
            if (result.status !== 200) {
              warnRejected(result, req);
              if (result.headers) res.set(result.headers);
              res.status(result.status).json({ error: result.error });
              return;
            }
            let events = result.events;
            if (recentIds) {
              events = events.filter((event) => !recentIds.seenBefore(String(event.id)));
              duplicates += result.events.length - events.length;
            }
            received += events.length;
            const answer: Record<string, number> = { accepted: events.length };
            if (events.length !== result.events.length) answer.duplicates = result.events.length - events.length;
            const messages = messagesFor(events, 'webhook');
            if (respondWhenQueued && messages.length) {
              const acks = ackGroup(messages.map((msg) => String((msg.payload as FaceEvent).id)), queuedTimeoutMs, (outcome) => {
                if (outcome.ok) {
                  lastError = undefined;
                  res.status(200).json(answer);
                } else {
                  // FindFace sends the batch again on anything but 200: nothing is lost.
                  lastError = `503 ${outcome.error}`.slice(0, 80);
                  node.warn(RED._('findface-event-in.errors.not-queued', { error: outcome.error }));
                  res.status(503).json({ error: outcome.error });
                }
                scheduleStatus();
              });
              messages.forEach((msg, index) => ((msg as Record<string, unknown>)[ACK_PROPERTY] = acks[index]));
              sendEach(messages);
              return;
            }
            lastError = undefined;
            sendEach(messages);
            res.status(200).json(answer);
            scheduleStatus();
          },
          (error: Error) => {
            // The client went away mid-body, or the stream failed: nothing to answer, nothing emitted.
            lastError = error.message;
            scheduleStatus();
            if (!res.headersSent && !res.writableEnded) next(error);
          },
        );
      };

      const nodeRoot = String((RED.settings as { httpNodeRoot?: string | false }).httpNodeRoot || '/');
      const stopCapture = isLiteralPath(path)
        ? captureRawBody(RED.httpNode as never, `${nodeRoot}/${path}`, options.maxBodyBytes)
        : () => undefined;
      RED.httpNode.all(path, handler);
      showStatus();

      node.on('close', (done: () => void) => {
        removeRoute(RED.httpNode, handler);
        stopCapture();
        if (pathOwners.get(ownerKey) === node.id) pathOwners.delete(ownerKey);
        closed = true;
        if (statusTimer) clearTimeout(statusTimer);
        node.status({});
        done();
      });
      return;
    }

    if (mode === 'simulate') {
      let cameras: Record<string, number>;
      try {
        const layout: unknown = config.cameras;
        if (layout !== undefined && layout !== null && typeof layout !== 'string') throw new Error(`not text but ${shown(layout)}`);
        const parsed: unknown = JSON.parse(layout || '{}');
        if (!isPlainObject(parsed)) throw new Error(shown(parsed));
        cameras = parsed as Record<string, number>;
      } catch (error) {
        fail(RED._('findface-event-in.errors.bad-cameras', { error: (error as Error).message }));
        return;
      }
      const settings = {
        cameras,
        dossiers: parseNumberList(config.dossiers),
        matchedRatio: numberOf(config.matchedRatio, 0.3),
        shape: config.shape || 'ffs3',
      };
      const rate = numberOf(config.rate, 1);
      const problem =
        simulatorProblem(settings) ?? (rate > 0 && rate <= 10000 ? null : RED._('findface-event-in.errors.bad-rate', { value: shown(config.rate) }));
      if (problem) {
        fail(problem);
        return;
      }
      const seed = config.seed !== undefined && config.seed !== null && String(config.seed).trim() !== '' ? Number(config.seed) : undefined;
      if (seed !== undefined && !Number.isSafeInteger(seed)) {
        fail(RED._('findface-event-in.errors.bad-seed', { value: shown(config.seed) }));
        return;
      }
      const simulator: Simulator =
        config.simulation === 'walk-up' ? createWalkUpSimulator({ ...settings, seed }, () => currentRate) : createSimulator({ ...settings, seed });
      let currentRate = rate;
      let startedAt = 0;
      let emitted = 0;
      let tickTimer: NodeJS.Timeout | undefined;

      const emit = (count: number) => {
        const events: FaceEvent[] = [];
        for (let index = 0; index < count; index++) events.push(simulator.next());
        received += count;
        sendEach(messagesFor(events, 'simulate'));
        scheduleStatus();
      };

      const tick = () => {
        tickTimer = undefined;
        const due = eventsDue(Date.now() - startedAt, currentRate);
        let count = due - emitted;
        if (count > MAX_CATCH_UP) {
          // Skip what a stalled loop missed rather than bursting it out.
          emitted = due - MAX_CATCH_UP;
          count = MAX_CATCH_UP;
        }
        if (count > 0) {
          emit(count);
          emitted += count;
        }
        const nextDueAt = startedAt + (emitted * 1000) / currentRate;
        tickTimer = setTimeout(tick, Math.max(0, nextDueAt - Date.now()));
      };

      const running = () => tickTimer !== undefined;
      const start = () => {
        if (running()) return;
        startedAt = Date.now();
        emitted = 0;
        tick();
        showStatus();
      };
      const stop = () => {
        if (tickTimer) clearTimeout(tickTimer);
        tickTimer = undefined;
        showStatus();
      };

      showStatus = () => {
        const text = running()
          ? RED._('findface-event-in.status.simulating', { rate: currentRate, count: received })
          : RED._('findface-event-in.status.stopped', { count: received });
        node.status({ fill: running() ? 'green' : 'grey', shape: running() ? 'dot' : 'ring', text });
      };

      node.on('input', (msg: NodeMessageInFlow, send, done) => {
        const command = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : undefined;
        const newRate = (msg as { rate?: unknown }).rate;
        if (newRate !== undefined) {
          const value = Number(newRate);
          if (!(value > 0 && value <= 10000)) {
            done(new Error(RED._('findface-event-in.errors.bad-rate', { value: String(newRate) })));
            return;
          }
          currentRate = value;
          if (running()) {
            stop();
            start();
          }
        }
        if (command === 'start') start();
        else if (command === 'stop') stop();
        else if (command === 'toggle') {
          if (running()) stop();
          else start();
        }
        else if (newRate === undefined) emit(1);
        showStatus();
        done();
      });

      if (config.autostart !== false) start();
      else showStatus();

      node.on('close', (done: () => void) => {
        closed = true;
        stop();
        if (statusTimer) clearTimeout(statusTimer);
        node.status({});
        done();
      });
      return;
    }

    if (mode === 'poll') {
      const server = RED.nodes.getNode(config.server) as unknown as FindFaceServerHandle | null;
      if (!server) {
        fail(RED._('findface-event-in.errors.no-server'));
        return;
      }
      if (server.configError || !server.client) {
        fail(RED._('findface-event-in.errors.server-config', { error: server.configError ?? '' }));
        return;
      }
      const parsedFilters = parsePollFilters(config.pollFilters);
      if (!parsedFilters.ok) {
        const { code, ...details } = parsedFilters.problem;
        fail(RED._(`findface-event-in.errors.poll-filters.${code}`, { ...details, detail: details.detail ? ` (${details.detail})` : '' }));
        return;
      }
      const filters: Query = parsedFilters.value.query;
      const intervalS = config.pollIntervalS === undefined || config.pollIntervalS === '' ? 5 : Number(config.pollIntervalS);
      const startAt = config.startAt === 'beginning' ? 'beginning' : 'now';
      const pollerSettings = { intervalMs: intervalS * 1000, filters, startAt } as const;
      const problem =
        typeof config.pollIntervalS === 'boolean' || !(intervalS >= 0.1)
          ? RED._('findface-event-in.errors.bad-interval', { value: shown(config.pollIntervalS) })
          : pollerOptionsProblem(pollerSettings);
      if (problem) {
        fail(problem);
        return;
      }
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir || nodePath.join(os.homedir(), '.node-red');
      const cursorsDir = nodePath.join(userDir, 'findface-cursors');
      const cursorFile = childPath(cursorsDir, `${nodeFileName(node.id)}.json`);
      adoptLegacyFile(cursorsDir, `${node.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`, cursorFile); // the name earlier versions used
      const store = new FileCursorStore(cursorFile);
      let pollerStatus: PollerStatus | undefined;
      showStatus = () => {
        if (!pollerStatus) return;
        const fills: Record<string, 'green' | 'blue' | 'yellow'> = { waiting: 'green', polling: 'blue', backoff: 'yellow' };
        node.status({ fill: fills[pollerStatus.state] ?? 'red', shape: 'dot', text: `${statusText(pollerStatus)} · ${received}` });
      };
      let lastReported = '';
      // The server may ignore a filter: what the event shows is checked again before it is emitted.
      const groupsLease = 'camera_groups' in filters ? server.acquireCameraGroups() : undefined;
      const selection = compilePollSelection(parsedFilters.value, (camera) => groupsLease?.groups.groupOf(camera));
      const poller = new Poller({
        select: (event) => selection.failing(event),
        source: server.client,
        store,
        sourceKey: server.url,
        ...pollerSettings,
        onEvent: (event) => {
          received++;
          const payload = server.absolutise(event as FaceEvent & Record<string, unknown>);
          node.send({ payload, ...metadata(payload, 'poll') } as NodeMessage);
        },
        onStatus: (status) => {
          pollerStatus = status;
          // An auth or configuration failure halts polling: Catch nodes hear of each new one.
          if (status.state === 'halted' && status.error && status.error.message !== lastReported) {
            lastReported = status.error.message;
            // With a message, so that Catch nodes receive it (node.error without one only logs).
            node.error(status.error.message, { topic: 'findface/poll', payload: { error: status.error, server: server.url } } as NodeMessage);
          }
          scheduleStatus();
        },
        onWarning: (message) => node.warn(message),
      });
      poller.start();
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => {
        // Poll now; also the way to retry at once after a 401, once the token is fixed.
        poller.trigger();
        done();
      });
      node.on('close', (removed: boolean, done: () => void) => {
        closed = true;
        if (statusTimer) clearTimeout(statusTimer);
        node.status({});
        poller
          .stop()
          .then(() => {
            groupsLease?.release();
            return removed ? store.remove() : undefined;
          })
          .catch((error: Error) => node.warn(error.message))
          .finally(done);
      });
      return;
    }

    fail(RED._('findface-event-in.errors.bad-mode', { mode: shown(mode) }));
  }

  RED.nodes.registerType<Node<EventInCredentials>, EventInDef, unknown, EventInCredentials>('findface-event-in', FindFaceEventInNode, {
    credentials: { secret: { type: 'password' }, signingSecrets: { type: 'password' } },
  });
};
