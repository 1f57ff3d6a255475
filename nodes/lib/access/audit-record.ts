// One line of the door's audit trail: what was decided, for whom, from which
// event. Plain data, one JSON object per line.
import type { FaceEvent } from '../event/event';
import type { Decision } from './decision';
import { isoTime } from '../common/iso-time';

export interface AuditRecord {
  /** When it was decided (ISO 8601, UTC). */
  time: string;
  door: string;
  /** Matched dossier or card; null for an unmatched face. */
  person: number | null;
  camera: number;
  event: string;
  confidence: number | null;
  decision: Decision['kind'];
  /** The deny reason, `cooldown` for a held event, null for a grant. */
  reason: string | null;
  /** created_date → decision, ms; null when the event had no usable date. */
  ageMs: number | null;
  /** The face image where the event has one (face, thumbnail or normalized photo). */
  image: string | null;
}

function imageOf(event: FaceEvent): string | null {
  for (const key of ['face', 'thumbnail', 'normalized_photo']) {
    const value = event[key];
    if (typeof value === 'string' && /^https?:\/\//i.test(value)) return value;
  }
  return null;
}

export function auditRecord(door: string, decision: Decision, event: FaceEvent, wallMs: number): AuditRecord {
  return {
    time: isoTime(wallMs),
    door,
    person: decision.personId,
    camera: decision.cameraId,
    event: decision.eventId,
    confidence: decision.confidence ?? null,
    decision: decision.kind,
    reason: decision.kind === 'denied' ? decision.reason : decision.kind === 'cooldown' ? 'cooldown' : null,
    ageMs: decision.ageMs === undefined ? null : Math.round(decision.ageMs),
    image: imageOf(event),
  };
}
