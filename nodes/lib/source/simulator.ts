// Realistic FindFace face events for demos, example flows and tests, in the
// shape of FindFace Security 3.x (the seed's sample), 4.x or Multi.
// Deterministic for a given seed and clock.
import type { FaceEvent } from '../event/event';

export type EventShape = 'ffs3' | 'ffs4' | 'multi';

export interface SimulatorOptions {
  /** Same seed, same clock: same events. Omitted: a random seed. */
  seed?: number;
  /** Camera id → camera group id, e.g. {"1": 1, "2": 1, "3": 2}. */
  cameras: Record<string, number>;
  /** Dossier (card) ids a matched event can name. */
  dossiers: number[];
  /** Share of events that match a dossier, 0..1. */
  matchedRatio: number;
  shape: EventShape;
  /** Where image URLs point, like FindFace's SERVICE_EXTERNAL_ADDRESS. */
  imageBaseUrl: string;
  now: () => Date;
}

export const defaultSimulatorOptions: SimulatorOptions = {
  cameras: { '1': 1, '2': 1, '3': 2 },
  dossiers: [1, 2, 3, 12, 25],
  matchedRatio: 0.3,
  shape: 'ffs3',
  imageBaseUrl: 'http://172.20.77.17',
  now: () => new Date(),
};

/** mulberry32: a small, fast, well-distributed 32-bit PRNG. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** FindFace writes dates without milliseconds: 2019-04-09T12:29:23Z. */
function findfaceDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface Simulator {
  next(): FaceEvent;
}

export function simulatorProblem(options: Pick<SimulatorOptions, 'cameras' | 'dossiers' | 'matchedRatio' | 'shape'>): string | null {
  const cameraIds = Object.keys(options.cameras);
  if (cameraIds.length === 0) return 'the camera layout needs at least one camera';
  for (const id of cameraIds) {
    if (!/^\d+$/.test(id) || !Number.isSafeInteger(Number(id))) return `camera id "${id}" is not a whole number`;
    if (!Number.isSafeInteger(options.cameras[id])) return `the group of camera ${id} is not a whole number`;
  }
  if (!options.dossiers.every((id) => Number.isSafeInteger(id))) return 'dossier ids must be whole numbers';
  if (!(options.matchedRatio >= 0 && options.matchedRatio <= 1)) return 'the matched ratio must be between 0 and 1';
  if (options.matchedRatio > 0 && options.dossiers.length === 0) return 'matched events need at least one dossier id';
  if (!['ffs3', 'ffs4', 'multi'].includes(options.shape)) return `unknown event shape "${options.shape}"`;
  return null;
}

export function createSimulator(overrides: Partial<SimulatorOptions> = {}): Simulator {
  const options: SimulatorOptions = { ...defaultSimulatorOptions, ...overrides };
  const problem = simulatorProblem(options);
  if (problem) throw new Error(problem);
  const random = prng(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const cameraIds = Object.keys(options.cameras).map(Number);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const token = (length: number) => Array.from({ length }, () => LETTERS[Math.floor(random() * LETTERS.length)]).join('');
  // FindFace event ids: 19-digit strings that grow over time.
  let lastId = 4173669353687265180n + BigInt(Math.floor(random() * 1e12));
  // Each dossier sits on one watch list, as in FindFace's dossier lists.
  const listOf = (dossier: number) => 1 + (Math.abs(dossier) % 3);

  return {
    next(): FaceEvent {
      lastId += BigInt(1 + Math.floor(random() * 5_000_000));
      const id = lastId.toString();
      const camera = pick(cameraIds);
      const group = options.cameras[String(camera)];
      const matched = options.dossiers.length > 0 && random() < options.matchedRatio;
      const dossier = matched ? pick(options.dossiers) : null;
      const confidence = matched ? round(0.75 + random() * 0.24, 4) : round(0.3 + random() * 0.4, 4);
      const created = findfaceDate(options.now());
      const day = created.slice(0, 10).replace(/-/g, '/');
      const stamp = created.slice(11, 19).replace(/:/g, '');
      const image = (kind: string, extension = 'jpg') => `${options.imageBaseUrl}/uploads/${day}/event/${stamp}_${kind}_${token(6)}.${extension}`;
      const left = Math.floor(random() * 1600);
      const top = Math.floor(random() * 700);
      const size = 120 + Math.floor(random() * 200);
      const quality = -round(random() * 0.001, 6);
      const common = {
        id,
        confidence: matched ? confidence : null,
        created_date: created,
        frame_coords_bottom: top + size,
        frame_coords_left: left,
        frame_coords_right: left + size,
        frame_coords_top: top,
        looks_like_confidence: matched ? null : confidence,
        matched,
        quality,
        scores: {
          direction_score: round(-random() * 5, 5),
          frame_no: Math.floor(random() * 100000),
          score: quality,
          tracking_duration: 1000 * Math.floor(1 + random() * 60),
        },
      };
      const acknowledgement = {
        acknowledged: !matched,
        acknowledged_by: null,
        acknowledged_date: matched ? null : created,
        acknowledged_reaction: null,
      };
      const features = { age: null, beard: null, emotions: null, gender: null, glasses: null, liveness: null };

      if (options.shape === 'multi') {
        return {
          ...common,
          ...acknowledgement,
          camera,
          camera_group: group,
          matched_card: dossier,
          matched_lists: dossier === null ? [] : [listOf(dossier)],
          matched_object: matched ? String(lastId - 1000n) : null,
          features,
          thumbnail: image('thumbnail'),
          fullframe: image('fullframe'),
        };
      }
      if (options.shape === 'ffs4') {
        return {
          ...common,
          ...acknowledgement,
          webhook_type: 'events',
          event_type: 'event_created',
          camera: { id: camera, name: `Camera ${camera}`, group, active: true },
          camera_group: { id: group, name: `Camera group ${group}` },
          matched_dossier: dossier,
          dossier: dossier === null ? null : { id: dossier, name: `Dossier ${dossier}` },
          matched_lists: dossier === null ? [] : [{ id: listOf(dossier), name: `Watch list ${listOf(dossier)}` }],
          matched_face: matched ? String(lastId - 1000n) : null,
          features,
          face: image('face'),
          frame: image('image'),
          normalized_photo: image('face0', 'png'),
        };
      }
      return {
        ...acknowledgement,
        camera,
        ...common,
        face: image('face'),
        features,
        frame: image('image'),
        matched_dossier: dossier,
        matched_face: matched ? String(lastId - 1000n) : null,
        matched_lists: dossier === null ? [] : [listOf(dossier)],
        normalized_photo: image('face0', 'png'),
      };
    },
  };
}

/**
 * How many events are due `elapsedMs` after a start at `rate` events per
 * second: the first at once, then one every 1000/rate ms, without drift.
 */
export function eventsDue(elapsedMs: number, rate: number): number {
  if (!(rate > 0) || elapsedMs < 0) return 0;
  return Math.floor((elapsedMs * rate) / 1000 + 1e-9) + 1;
}
