// "People walking up": what a camera in realtime mode sends as a person
// approaches it. Each person is a burst of frames at one camera over 1-2 s
// (3-8 frames by default), confidence rising frame by frame, `bs_type`
// `realtime` on every frame but the last, which is the track's `overall`
// best shot (Security 4.x and Multi events carry `bs_type`; 3.x has none).
// Some people are on the lists (a matched dossier or card), the others are
// strangers. The events themselves come from lib/source/simulator.ts, so
// the shapes are the simulator's. Deterministic for a given seed.
import type { FaceEvent } from '../event/event';
import { createSimulator, defaultSimulatorOptions, prng, Simulator, SimulatorOptions } from './simulator';

export interface WalkUpOptions extends SimulatorOptions {
  framesMin: number;
  framesMax: number;
  burstMinMs: number;
  burstMaxMs: number;
}

export const defaultWalkUpOptions: WalkUpOptions = {
  ...defaultSimulatorOptions,
  matchedRatio: 0.5,
  framesMin: 3,
  framesMax: 8,
  burstMinMs: 1000,
  burstMaxMs: 2000,
};

export interface WalkUpFrame {
  /** Milliseconds after the burst's first frame. */
  atMs: number;
  event: FaceEvent;
}

export interface WalkUpBurst {
  camera: number;
  /** The dossier/card of a person on the lists; null for a stranger. */
  person: number | null;
  frames: WalkUpFrame[];
}

export interface WalkUp {
  /** The next person to walk up, first frame at wall time `startMs` (each frame dated when it is taken). */
  burst(startMs: number): WalkUpBurst;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function findfaceDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function createWalkUp(overrides: Partial<WalkUpOptions> = {}): WalkUp {
  const options: WalkUpOptions = { ...defaultWalkUpOptions, ...overrides };
  if (!(options.framesMin >= 1 && options.framesMax >= options.framesMin)) throw new Error('walk-up frames: need 1 ≤ framesMin ≤ framesMax');
  if (!(options.burstMinMs >= 0 && options.burstMaxMs >= options.burstMinMs)) throw new Error('walk-up duration: need 0 ≤ burstMinMs ≤ burstMaxMs');
  const random = prng(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const cameraIds = Object.keys(options.cameras);
  let frameDate = 0;
  // One simulator makes every event, so ids keep growing across bursts; each burst narrows it to its camera and person.
  const base: Simulator = createSimulator({ ...options, seed: Math.floor(random() * 2 ** 32), now: () => new Date(frameDate) });
  const oneCamera = (camera: string, person: number | null): Simulator => {
    // The simulator picks camera and person from these one-element choices.
    return createSimulator({
      ...options,
      cameras: { [camera]: options.cameras[camera] },
      dossiers: person === null ? [] : [person],
      matchedRatio: person === null ? 0 : 1,
      seed: Math.floor(random() * 2 ** 32),
      now: () => new Date(frameDate),
    });
  };
  return {
    burst(startMs: number): WalkUpBurst {
      const camera = cameraIds[Math.floor(random() * cameraIds.length)];
      const onList = options.dossiers.length > 0 && random() < options.matchedRatio;
      const person = onList ? options.dossiers[Math.floor(random() * options.dossiers.length)] : null;
      const count = options.framesMin + Math.floor(random() * (options.framesMax - options.framesMin + 1));
      const duration = options.burstMinMs + random() * (options.burstMaxMs - options.burstMinMs);
      const from = onList ? 0.55 + random() * 0.15 : 0.3 + random() * 0.15;
      const to = onList ? 0.8 + random() * 0.19 : 0.5 + random() * 0.2;
      const shaped = oneCamera(camera, person);
      const frames: WalkUpFrame[] = [];
      for (let index = 0; index < count; index++) {
        const atMs = count === 1 ? 0 : Math.round((duration * index) / (count - 1));
        frameDate = startMs + atMs;
        const confidence = round(from + (to - from) * (count === 1 ? 1 : index / (count - 1)), 4);
        const scores = person !== null ? { confidence } : { looks_like_confidence: confidence };
        const bsType = options.shape === 'ffs3' ? {} : { bs_type: index === count - 1 ? 'overall' : 'realtime' };
        // Built in one literal (not patched afterwards) so that every frame of a shape has one hidden class:
        // readers of the event stay fast. The id comes from the shared sequence, so ids grow across bursts as FindFace's do.
        const event: FaceEvent = { ...shaped.next(), id: base.next().id, created_date: findfaceDate(frameDate), ...scores, ...bsType };
        frames.push({ atMs, event });
      }
      return { camera: Number(camera), person, frames };
    },
  };
}

/**
 * The walk-up mode of the simulate source: a `Simulator` whose events, taken
 * at `rate()` events per second, are people's bursts, several people
 * overlapping when the rate allows. Frames go out in the order they are due
 * on a virtual clock advanced by 1/rate per event (a new person walks up
 * whenever no frame is due), each dated when it goes out. Below a few
 * events per second a burst stretches over more than its 1-2 s.
 */
export function createWalkUpSimulator(overrides: Partial<WalkUpOptions>, rate: () => number): Simulator {
  const now = overrides.now ?? defaultWalkUpOptions.now;
  const walkUp = createWalkUp(overrides);
  let virtualMs = 0;
  let pending: Array<{ dueMs: number; event: FaceEvent }> = [];
  return {
    next(): FaceEvent {
      virtualMs += 1000 / rate();
      if (pending.length === 0 || pending[0].dueMs > virtualMs) {
        const burst = walkUp.burst(now().getTime());
        pending = pending.concat(burst.frames.map((frame) => ({ dueMs: virtualMs + frame.atMs, event: frame.event }))).sort((a, b) => a.dueMs - b.dueMs);
      }
      const { event } = pending.shift() as { event: FaceEvent };
      event.created_date = findfaceDate(now().getTime());
      if (typeof event.acknowledged_date === 'string') event.acknowledged_date = event.created_date;
      return event;
    },
  };
}
