import assert from 'assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { CameraGroups, CameraGroupsOptions, CameraGroupsStatus, cameraGroupsStatusText } from '../../nodes/lib/findface/camera-groups';
import { Camera, FindFaceApiError, FindFaceClient } from '../../nodes/lib/findface/findface-api';
import { Clock } from '../../nodes/lib/common/clock';
import { FakeFindFace } from '../support/fake-findface';

/** A camera source answering from `cameras`, or failing with `failure`; `hold` keeps answers back. */
class ScriptedSource {
  cameras: Camera[] = [
    { id: 1, group: 1 },
    { id: 2, group: 1 },
    { id: 3, group: 2 },
  ];
  failure: Error | undefined;
  calls = 0;
  held: Array<() => void> = [];
  hold = false;
  async listCameras(): Promise<Camera[]> {
    this.calls++;
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failure) throw this.failure;
    return this.cameras.map((c) => ({ ...c }));
  }
  releaseAll(): void {
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
  }
}

function harness(options: Partial<CameraGroupsOptions> = {}, source = new ScriptedSource()) {
  const fake = FakeTimers.createClock(0);
  const clock: Clock = {
    now: () => fake.now,
    monotonic: () => fake.now,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
  };
  const statuses: CameraGroupsStatus[] = [];
  const groups = new CameraGroups({
    source,
    clock,
    refreshMs: 60000,
    readyTimeoutMs: 500,
    minRefreshGapMs: 5000,
    onStatus: (s) => statuses.push(s),
    ...options,
  });
  const run = async (ms = 0) => {
    await fake.tickAsync(ms);
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      await fake.tickAsync(0);
    }
  };
  return { groups, source, fake, statuses, run };
}

describe('camera groups', () => {
  it('loads camera → group and reports "loaded N cameras"', async () => {
    const h = harness();
    assert.equal(cameraGroupsStatusText(h.groups.status), 'not loaded');
    const ready = h.groups.ready();
    assert.equal(h.groups.status.state, 'loading');
    assert.equal(cameraGroupsStatusText(h.groups.status), 'loading');
    await h.run();
    assert.equal(await ready, true);
    assert.equal(h.groups.groupOf(1), 1);
    assert.equal(h.groups.groupOf(3), 2);
    assert.equal(h.groups.groupOf(99), undefined);
    assert.equal(cameraGroupsStatusText(h.groups.status), 'loaded 3 cameras');
    assert.deepEqual(
      h.statuses.map((s) => s.state),
      ['loading', 'loaded'],
    );
    h.groups.stop();
  });

  it('skips cameras without a usable group', async () => {
    const source = new ScriptedSource();
    source.cameras = [
      { id: 1, group: undefined },
      { id: 2, group: 5 },
    ];
    const h = harness({}, source);
    h.groups.start();
    await h.run();
    assert.equal(h.groups.size, 1);
    assert.equal(h.groups.camerasListed, 2);
    h.groups.stop();
  });

  it('ready() waits at most its bound while the first load hangs, then answers false', async () => {
    const source = new ScriptedSource();
    source.hold = true;
    const h = harness({}, source);
    let answer: boolean | undefined;
    void h.groups.ready().then((ok) => (answer = ok));
    await h.run(499);
    assert.equal(answer, undefined);
    await h.run(1);
    assert.equal(answer, false);
    const short = h.groups.ready(50);
    await h.run(50);
    assert.equal(await short, false);
    source.releaseAll();
    await h.run();
    assert.equal(await h.groups.ready(), true, 'once loaded, ready() answers at once');
    assert.equal(h.groups.groupOf(2), 1);
    h.groups.stop();
  });

  it('refreshes on its interval and picks up changes', async () => {
    const h = harness();
    h.groups.start();
    await h.run();
    h.source.cameras.push({ id: 4, group: 3 });
    h.source.cameras[0] = { id: 1, group: 7 };
    await h.run(59999);
    assert.equal(h.groups.groupOf(4), undefined);
    await h.run(1);
    assert.equal(h.source.calls, 2);
    assert.equal(h.groups.groupOf(4), 3);
    assert.equal(h.groups.groupOf(1), 7);
    h.groups.stop();
  });

  it('refreshes on demand, merging calls and at most once per minRefreshGapMs', async () => {
    const h = harness();
    await h.groups.ready();
    await h.run();
    h.source.cameras.push({ id: 9, group: 4 });
    const merged = [h.groups.refresh(), h.groups.refresh()];
    await h.run();
    await Promise.all(merged);
    assert.equal(h.source.calls, 1, 'too soon after the first load');
    await h.run(5000);
    const a = h.groups.refresh();
    const b = h.groups.refresh();
    await h.run();
    await Promise.all([a, b]);
    assert.equal(h.source.calls, 2);
    assert.equal(h.groups.groupOf(9), 4);
    h.groups.stop();
  });

  it('reports a failed load, retries with backoff and keeps the last map', async () => {
    const h = harness();
    h.groups.start();
    await h.run();
    h.source.failure = new FindFaceApiError('network', 'GET /cameras/: connect ECONNREFUSED 127.0.0.1:1', undefined, 'ECONNREFUSED');
    await h.run(60000);
    const status = h.groups.status;
    assert.equal(status.state, 'failed');
    assert.equal(cameraGroupsStatusText(status), 'failed: GET /cameras/: connect ECONNREFUSED 127.0.0.1:1 (using 3 cameras loaded before)');
    assert.equal(h.groups.groupOf(1), 1, 'the previous map stays');
    assert.equal(status.state === 'failed' && status.retryMs, 270);
    await h.run(270);
    assert.equal(h.source.calls, 3);
    assert.equal(h.groups.status.state === 'failed' && (h.groups.status as { retryMs: number }).retryMs, 729);
    h.source.failure = undefined;
    await h.run(729);
    assert.equal(h.groups.status.state, 'loaded');
    h.groups.stop();
  });

  it('a failed first load answers ready() false at once and says why', async () => {
    const source = new ScriptedSource();
    source.failure = new FindFaceApiError('auth', 'GET /cameras/: HTTP 401 Unauthorized: Invalid token.', 401);
    const h = harness({}, source);
    const ready = h.groups.ready();
    await h.run();
    assert.equal(await ready, false);
    const status = h.groups.status;
    assert.equal(status.state, 'failed');
    assert.equal(status.state === 'failed' && status.auth, true);
    assert.equal(status.state === 'failed' && status.retryMs, 60000, 'an auth failure waits for the next refresh');
    assert.match(cameraGroupsStatusText(status), /^failed: GET \/cameras\/: HTTP 401/);
    await h.run(59999);
    assert.equal(source.calls, 1, 'no hammering');
    h.groups.stop();
  });

  it('stop() clears its timers, cancels waiting and answers ready() at once', async () => {
    const source = new ScriptedSource();
    source.hold = true;
    const h = harness({}, source);
    const ready = h.groups.ready(100000);
    await h.run();
    h.groups.stop();
    assert.equal(await ready, false);
    assert.equal(h.fake.countTimers(), 0);
    assert.equal(h.groups.status.state, 'stopped');
    source.releaseAll();
    await h.run(200000);
    assert.equal(source.calls, 1);
    assert.equal(await h.groups.ready(), false);
  });

  it('loads from the fake FindFace over HTTP, all pages', async () => {
    const fake = await FakeFindFace.start({ maxLimit: 2 });
    const client = new FindFaceClient({ baseUrl: fake.url, token: fake.token, timeoutMs: 2000 });
    fake.cameras = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, group: i < 2 ? 1 : 2, name: `c${i}` }));
    const groups = new CameraGroups({ source: client, readyTimeoutMs: 2000 });
    try {
      assert.equal(await groups.ready(), true);
      assert.deepEqual(
        [...groups.snapshot()],
        [
          [1, 1],
          [2, 1],
          [3, 2],
          [4, 2],
          [5, 2],
        ],
      );
    } finally {
      groups.stop();
      client.destroy();
      await fake.close();
    }
  });
});
