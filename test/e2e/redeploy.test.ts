// Redeploys while the webhook sender is delivering, end to end: a real
// Node-RED with the packed package runs face event source (webhook mode,
// answering 200 only once the events are durably queued) → webhook sender →
// receiver under a steady load, and the flows are deployed again through the
// admin API as the editor does: full deploys, modified-nodes deploys, and a
// new URL for the sender while it is backing off from a receiver that is down.
// Every event the source answered 200 arrives, in order.
import assert from 'assert/strict';
import { backoffLines, deliveryReport, EventLoad, pipelineFlows, SOURCE_PATH } from '../support/event-load';
import { NodeRedProcess } from '../support/node-red-process';
import { Receiver } from '../support/receiver';
import { sleep, waitFor } from '../support/wait';

const BATCH = 5;

type Flow = Array<Record<string, unknown>>;

/** The pipeline's flows with some properties of one node changed. */
function withNode(flows: Flow, id: string, changes: Record<string, unknown>): Flow {
  return flows.map((node) => (node.id === id ? { ...node, ...changes } : node));
}

describe('redeploys while delivering (real Node-RED)', function () {
  this.timeout(120000);
  let receiver: Receiver;
  let other: Receiver;
  let red: NodeRedProcess;
  let nextId = 1;
  const baseFlows = (url = receiver.url) => pipelineFlows({ receiverUrl: url, webhook: { batchSize: BATCH } }) as Flow;

  before(async () => {
    receiver = await Receiver.start();
    other = await Receiver.start();
    red = await NodeRedProcess.create({ flows: baseFlows() });
    await red.start();
  });

  after(async () => {
    await red?.dispose();
    await receiver?.stop();
    await other?.stop();
  });

  beforeEach(async () => {
    receiver.requests.length = 0;
    other.requests.length = 0;
    receiver.respondWith({ status: 200, delayMs: 20 });
    await receiver.accept();
    await other.accept();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`Node-RED log tail:\n${red?.log.split('\n').slice(-60).join('\n')}`);
  });

  const newLoad = () => new EventLoad({ url: () => `${red.url}${SOURCE_PATH}`, firstId: nextId, perPost: 2, intervalMs: 10, maxPosts: 5000 });

  /** Everything acknowledged arrives at `at`, in order; returns the report. */
  async function checkDelivered(load: EventLoad, at: Receiver, deploys: number) {
    nextId = load.lastId + 1;
    const acked = new Set(load.acked);
    await waitFor(() => at.deliveredIds.filter((id) => acked.has(Number(id))).length >= acked.size, 15000, `all ${acked.size} acknowledged events`);
    const report = deliveryReport(at.deliveredIds, load.acked);
    assert.deepEqual(report.missing, [], 'every event answered 200 arrived');
    assert.deepEqual(report.outOfOrder, [], 'in order');
    assert.ok(report.duplicates <= deploys * BATCH, `duplicates ${report.duplicates} ≤ deploys × batch size`);
    // During a redeploy the source answers 503 (not queued) or, while its route is being replaced, Node-RED answers 404:
    // FindFace sends those again (anything but 200 is a failure to it); nothing else is refused.
    for (const r of load.refused) assert.ok([503, 404].includes(r.status), `only 503 or 404 while redeploying, got ${r.status} ${r.body}`);
    assert.deepEqual(red.errorLines(), []);
    return report;
  }

  it('full deploys while delivering: nothing lost, order kept', async () => {
    const logMark = red.log.length;
    const load = newLoad().start();
    try {
      const deploys = 3;
      for (let i = 0; i < deploys; i++) {
        await load.waitForAcked(40);
        await red.deploy(baseFlows(), 'full');
      }
      await load.waitForAcked(40);
      await load.stop();
      const report = await checkDelivered(load, receiver, deploys);
      assert.equal(red.log.slice(logMark).split('Stopping flows').length - 1, deploys, 'each deploy restarted the flows');
      console.log(
        `      ${deploys} full deploys: ${load.sent} events posted ${JSON.stringify(load.statusCounts())}, ${report.unique} received, ` +
          `${report.duplicates} duplicates, ${report.unacknowledged} received without a 200`,
      );
    } finally {
      await load.stop();
      nextId = Math.max(nextId, load.lastId + 1);
    }
  });

  it('modified-nodes deploys (the sender changed, then the source changed) while delivering: nothing lost, order kept', async () => {
    await red.deploy(baseFlows(), 'full');
    const logMark = red.log.length;
    const load = newLoad().start();
    try {
      await load.waitForAcked(40);
      // The sender's title and batch size change: only it restarts, on the same queue.
      const changedHook = withNode(baseFlows(), 'hook', { title: 'e2e changed', batchSize: 3 });
      await red.deploy(changedHook, 'nodes');
      await load.waitForAcked(40);
      // Then only the source changes.
      await red.deploy(withNode(changedHook, 'source', { queuedTimeoutS: 3 }), 'nodes');
      await load.waitForAcked(40);
      await load.stop();
      const report = await checkDelivered(load, receiver, 2);
      const log = red.log.slice(logMark);
      assert.equal(log.split('Stopping modified nodes').length - 1, 2);
      assert.equal(log.split('Stopping flows').length - 1, 0, 'no full restart');
      assert.match(log, /Event \d+ enqueued for webhook e2e changed/, 'the new title in the log');
      assert.ok(
        receiver.requests.slice(-5).every((r) => (r.body as unknown[]).length <= 3),
        'the new batch size is used',
      );
      console.log(
        `      2 modified-nodes deploys: ${load.sent} events posted ${JSON.stringify(load.statusCounts())}, ${report.unique} received, ${report.duplicates} duplicates`,
      );
    } finally {
      await load.stop();
      nextId = Math.max(nextId, load.lastId + 1);
    }
  });

  it("the sender's URL changed while it backs off from a receiver that is down: everything queued arrives at the new receiver", async () => {
    await red.deploy(baseFlows(), 'full');
    await receiver.refuse();
    const logMark = red.log.length;
    const load = newLoad().start();
    try {
      // Receiver A down: events are queued (and acknowledged), the sender backs off.
      await load.waitForAcked(60);
      await waitFor(() => backoffLines(red.log.slice(logMark)).length >= 4, 10000, 'four backoff warnings');
      const waits = backoffLines(red.log.slice(logMark)).map((b) => b.seconds);
      assert.match(red.log.slice(logMark), /Backing off for 0\.054 seconds after failure: ECONNREFUSED/);
      const ackedBefore = load.acked.length;
      // Redeploy with receiver B's URL, only the sender changed, load still running.
      await red.deploy(withNode(baseFlows(), 'hook', { url: other.url }), 'nodes');
      await load.waitForAcked(40);
      await load.stop();
      const report = await checkDelivered(load, other, 1);
      assert.equal(report.duplicates, 0, 'nothing was delivered before, so nothing comes twice');
      // A comes back: it gets nothing any more.
      await receiver.accept();
      await sleep(300);
      assert.equal(receiver.requests.length, 0, 'the old receiver got nothing');
      assert.equal(Number(other.deliveredIds[0]), load.acked[0], 'B got the backlog from its first event');
      console.log(
        `      URL changed mid-backoff (waits so far [${waits.join(', ')}] s): ${ackedBefore} events queued while A was down, ` +
          `${load.acked.length} acknowledged in all, all ${report.unique} at B in order, 0 at A`,
      );
    } finally {
      await load.stop();
      nextId = Math.max(nextId, load.lastId + 1);
      await receiver.accept();
    }
  });
});
