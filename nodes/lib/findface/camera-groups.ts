// Camera id → camera group id, read from FindFace's `GET /cameras/` (each
// camera's `group`), for the webhook filter's `camera_group_in` when an event
// does not carry its group (FindFace Security 3.x events have only `camera`).
// No Node-RED import. One cache per findface-server config node, shared by the
// nodes using it (see FindFaceServerHandle.acquireCameraGroups in server-handle.ts).
//
// The filter node's own `cameraGroups` property wins over this cache: the
// filter looks there first and asks groupOf() only for cameras it does not
// list (the filter does that, not this module).
//
// Loading: the first load starts with start() (or the first ready()); the map
// is then refreshed every `refreshMs`, and on demand with refresh() (at most
// once per `minRefreshGapMs`, e.g. when an event names a camera the map does
// not know). A failed load keeps the previous map (stale groups beat none) and
// is retried with backoff (0.1 s × 2.7^n, at most refreshMs); an auth failure
// (401/403) is retried only at the next refresh. ready() lets an event wait,
// briefly and boundedly, for the first load.
import { backoffSeconds, BackoffOptions, DEFAULT_BACKOFF } from '../delivery/backoff';
import { Camera, isFindFaceApiError, RequestOptions } from './findface-api';
import { Clock, OneShotTimer, systemClock } from '../common/clock';

/** What the cache reads from; FindFaceClient fits. */
export interface CameraSource {
  listCameras(options?: RequestOptions): Promise<Camera[]>;
}

export interface CameraGroupsOptions {
  source: CameraSource;
  /** Reload period (ms, default 300000 = 5 min). */
  refreshMs?: number;
  /** Longest wait of ready() by default (ms, default 2000). */
  readyTimeoutMs?: number;
  /** On-demand refresh() calls closer together than this are merged into one (ms, default 10000). */
  minRefreshGapMs?: number;
  /** Retry schedule after a failed load (default 0.1 s × 2.7^n), never longer than refreshMs. */
  backoff?: BackoffOptions;
  clock?: Clock;
  /** Called on every status change. */
  onStatus?(status: CameraGroupsStatus): void;
}

export type CameraGroupsStatus =
  | { state: 'idle'; cameras: 0 }
  /** A load is in progress; `cameras` = cameras known from an earlier load. */
  | { state: 'loading'; cameras: number }
  | { state: 'loaded'; cameras: number; at: number }
  /** The last load failed; `cameras` = cameras still known from an earlier load. */
  | { state: 'failed'; cameras: number; reason: string; auth: boolean; retryMs: number }
  | { state: 'stopped'; cameras: number };

/** `loading` / `loaded 12 cameras` / `failed: reason` (English; the node may use its own words). */
export function cameraGroupsStatusText(status: CameraGroupsStatus): string {
  switch (status.state) {
    case 'idle':
      return 'not loaded';
    case 'loading':
      return 'loading';
    case 'loaded':
      return `loaded ${status.cameras} camera${status.cameras === 1 ? '' : 's'}`;
    case 'failed':
      return `failed: ${status.reason}${status.cameras ? ` (using ${status.cameras} cameras loaded before)` : ''}`;
    case 'stopped':
      return 'stopped';
  }
}

const DEFAULTS = { refreshMs: 300000, readyTimeoutMs: 2000, minRefreshGapMs: 10000 };

export class CameraGroups {
  private readonly source: CameraSource;
  private readonly clock: Clock;
  private readonly refreshMs: number;
  private readonly readyTimeoutMs: number;
  private readonly minRefreshGapMs: number;
  private readonly backoff: BackoffOptions;
  private readonly onStatus?: (status: CameraGroupsStatus) => void;

  private groups = new Map<number, number>();
  private cameraCount = 0;
  private current: CameraGroupsStatus = { state: 'idle', cameras: 0 };
  private loadedOnce = false;
  private settledOnce = false;
  private loading: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private readonly timer: OneShotTimer;
  private failures = 0;
  private lastLoadStart = -Infinity;
  private started = false;
  private stopped = false;
  private waiters = new Set<(ok: boolean) => void>();

  constructor(options: CameraGroupsOptions) {
    this.source = options.source;
    this.clock = options.clock ?? systemClock;
    this.timer = new OneShotTimer(this.clock);
    this.refreshMs = positive(options.refreshMs, DEFAULTS.refreshMs);
    this.readyTimeoutMs = positive(options.readyTimeoutMs, DEFAULTS.readyTimeoutMs);
    this.minRefreshGapMs = nonNegative(options.minRefreshGapMs, DEFAULTS.minRefreshGapMs);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.onStatus = options.onStatus;
  }

  get status(): CameraGroupsStatus {
    return { ...this.current };
  }

  /** Cameras in the map (those with a group). */
  get size(): number {
    return this.groups.size;
  }

  /** The camera's group id, or undefined when the camera (or its group) is unknown. */
  groupOf(cameraId: number): number | undefined {
    return this.groups.get(cameraId);
  }

  /** A copy of the map, camera id → group id. */
  snapshot(): Map<number, number> {
    return new Map(this.groups);
  }

  /** Starts the first load and the periodic refresh. Calling it again does nothing. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.load();
  }

  /**
   * Waits until the first load has finished, at most `timeoutMs` (default
   * readyTimeoutMs); starts the cache if needed. Resolves true when a map is
   * available (possibly from an earlier load), false after a failed first load
   * or when the wait ran out. Never rejects.
   */
  ready(timeoutMs: number = this.readyTimeoutMs): Promise<boolean> {
    if (this.stopped) return Promise.resolve(this.loadedOnce);
    this.start();
    if (this.settledOnce) return Promise.resolve(this.loadedOnce);
    return new Promise<boolean>((resolve) => {
      let timer: unknown;
      const done = (ok: boolean) => {
        if (!this.waiters.delete(done)) return;
        if (timer !== undefined) this.clock.clearTimeout(timer);
        resolve(ok);
      };
      this.waiters.add(done);
      timer = this.clock.setTimeout(
        () => {
          timer = undefined;
          done(this.loadedOnce);
        },
        Math.max(0, timeoutMs),
      );
    });
  }

  /**
   * Reloads now (e.g. an event named an unknown camera); merged with a load in
   * progress, and with any load started less than minRefreshGapMs ago (after
   * the first load succeeded). Resolves when that load settles; never rejects.
   */
  refresh(options: { force?: boolean } = {}): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.started = true;
    if (this.loading) return this.loading;
    // `force`: a user asked for it (a message), not an unknown camera in an event.
    if (!options.force && this.loadedOnce && this.clock.monotonic() - this.lastLoadStart < this.minRefreshGapMs) return Promise.resolve();
    return this.load();
  }

  /** Stops timers and the load in flight, wakes ready() waiters. Keeps the last map. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timer.clear();
    this.abort?.abort();
    this.wake();
    this.setStatus({ state: 'stopped', cameras: this.groups.size });
  }

  private schedule(ms: number): void {
    this.timer.clear();
    if (this.stopped) return;
    this.timer.start(ms, () => {
      void this.load();
    });
  }

  private setStatus(status: CameraGroupsStatus): void {
    this.current = status;
    this.onStatus?.({ ...status });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter(this.loadedOnce);
  }

  private load(): Promise<void> {
    if (this.loading) return this.loading;
    if (this.stopped) return Promise.resolve();
    this.timer.clear();
    this.lastLoadStart = this.clock.monotonic();
    const abort = new AbortController();
    this.abort = abort;
    this.setStatus({ state: 'loading', cameras: this.groups.size });
    const run = async () => {
      // Settle asynchronously even when the source throws at once, so that
      // `this.loading` is set before the finally block clears it.
      await null;
      try {
        const cameras = await this.source.listCameras({ signal: abort.signal });
        if (this.stopped) return;
        const groups = new Map<number, number>();
        for (const camera of cameras) {
          if (camera && Number.isSafeInteger(camera.id) && typeof camera.group === 'number' && Number.isSafeInteger(camera.group)) {
            groups.set(camera.id, camera.group);
          }
        }
        this.groups = groups;
        this.cameraCount = cameras.length;
        this.loadedOnce = true;
        this.failures = 0;
        this.setStatus({ state: 'loaded', cameras: groups.size, at: this.clock.now() });
        this.schedule(this.refreshMs);
      } catch (error) {
        if (this.stopped) return;
        this.failures++;
        const auth = isFindFaceApiError(error) && error.kind === 'auth';
        const retryable = isFindFaceApiError(error) ? error.retryable : true;
        const retryMs = auth || !retryable ? this.refreshMs : Math.min(this.refreshMs, Math.round(backoffSeconds(this.failures, this.backoff) * 1000));
        const reason = (error as Error)?.message ?? String(error);
        this.setStatus({ state: 'failed', cameras: this.groups.size, reason, auth, retryMs });
        this.schedule(retryMs);
      } finally {
        if (this.abort === abort) this.abort = undefined;
        this.settledOnce = true;
        this.loading = undefined;
        this.wake();
      }
    };
    this.loading = run();
    return this.loading;
  }

  /** Cameras listed by the last successful load (including those without a group). */
  get camerasListed(): number {
    return this.cameraCount;
  }
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

function nonNegative(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}
