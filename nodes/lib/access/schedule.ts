// When a door may open by face: weekly windows in a time zone, written as
//   Europe/Moscow Mon-Fri 08:00-19:00, Sat 10:00-14:00
// (the zone first, an IANA name; then windows separated by `,` or `;`, each
// days + from-to). Days: Mon..Sun, ranges (`Mon-Fri`, `Fri-Mon` wraps),
// lists (`Mon+Wed`), `daily`. `to` may be 24:00; a window whose end is not
// after its start runs past midnight into the next day (`Fri 22:00-06:00` is
// Friday 22:00 to Saturday 06:00). Read on the local wall clock of the zone
// through Intl, so a DST change moves the windows with the zone's clocks
// (08:00 stays 08:00 local) and a time that does not exist that day (the
// skipped hour) is simply never reached.

export type ScheduleProblemCode =
  | 'schedule-not-text'
  | 'schedule-bad-zone'
  | 'schedule-no-windows'
  | 'schedule-bad-window'
  | 'schedule-bad-days'
  | 'schedule-bad-time'
  | 'schedule-empty-window';

export interface ScheduleProblem {
  code: ScheduleProblemCode;
  value?: string;
}

export interface ScheduleWindow {
  /** 0 = Monday … 6 = Sunday: the days the window starts on. */
  days: number[];
  /** Minutes after local midnight. */
  from: number;
  /** Minutes after local midnight, up to 1440; ≤ from: ends the next day. */
  to: number;
}

export interface Schedule {
  timeZone: string;
  windows: ScheduleWindow[];
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WINDOW = /^(\S+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/;

function zoneIsKnown(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function parseDays(text: string): number[] | undefined {
  const lower = text.toLowerCase();
  if (lower === 'daily' || lower === '*') return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const part of lower.split('+')) {
    const range = part.split('-');
    if (range.length > 2) return undefined;
    const first = DAY_NAMES.indexOf(range[0]);
    const last = DAY_NAMES.indexOf(range[range.length - 1]);
    if (first < 0 || last < 0) return undefined;
    for (let day = first; ; day = (day + 1) % 7) {
      days.add(day);
      if (day === last) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

function minutes(hours: string, mins: string, allowEndOfDay: boolean): number | undefined {
  const h = Number(hours);
  const m = Number(mins);
  if (m > 59) return undefined;
  if (h === 24 && m === 0 && allowEndOfDay) return 1440;
  if (h > 23) return undefined;
  return h * 60 + m;
}

export type ParsedSchedule = { ok: true; value: Schedule | null } | { ok: false; problem: ScheduleProblem };

/** The node's `schedule` property; blank = always (null). */
export function parseSchedule(text: unknown): ParsedSchedule {
  if (text === undefined || text === null) return { ok: true, value: null };
  if (typeof text !== 'string') return { ok: false, problem: { code: 'schedule-not-text' } };
  const trimmed = text.replace(/[\u2013\u2014]/g, '-').trim();
  if (trimmed === '') return { ok: true, value: null };
  const space = trimmed.search(/\s/);
  const timeZone = space < 0 ? trimmed : trimmed.slice(0, space);
  if (!timeZone.includes('/') && timeZone !== 'UTC') return { ok: false, problem: { code: 'schedule-bad-zone', value: timeZone } };
  if (!zoneIsKnown(timeZone)) return { ok: false, problem: { code: 'schedule-bad-zone', value: timeZone } };
  const rest = space < 0 ? '' : trimmed.slice(space).trim();
  if (rest === '') return { ok: false, problem: { code: 'schedule-no-windows' } };
  const windows: ScheduleWindow[] = [];
  for (const raw of rest.split(/[,;]/)) {
    const part = raw.trim().replace(/\s+/g, ' ');
    if (part === '') continue;
    const match = WINDOW.exec(part);
    if (!match) return { ok: false, problem: { code: 'schedule-bad-window', value: part } };
    const days = parseDays(match[1]);
    if (!days) return { ok: false, problem: { code: 'schedule-bad-days', value: match[1] } };
    const from = minutes(match[2], match[3], false);
    const to = minutes(match[4], match[5], true);
    if (from === undefined || to === undefined) return { ok: false, problem: { code: 'schedule-bad-time', value: part } };
    if (from === to) return { ok: false, problem: { code: 'schedule-empty-window', value: part } };
    windows.push({ days, from, to });
  }
  if (windows.length === 0) return { ok: false, problem: { code: 'schedule-no-windows' } };
  return { ok: true, value: { timeZone, windows } };
}

const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** The local weekday (0 = Monday) and minute of the day at `wallMs` in the zone. */
export type LocalTime = (wallMs: number) => { day: number; minute: number };

export function localTimeIn(timeZone: string): LocalTime {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return (wallMs) => {
    let day = 0;
    let hour = 0;
    let minute = 0;
    for (const part of format.formatToParts(wallMs)) {
      if (part.type === 'weekday') day = WEEKDAY_INDEX[part.value];
      else if (part.type === 'hour') hour = Number(part.value) % 24;
      else if (part.type === 'minute') minute = Number(part.value);
    }
    return { day, minute: hour * 60 + minute };
  };
}

/** Whether a window covers local `day`/`minute`. */
function covers(window: ScheduleWindow, day: number, minute: number): boolean {
  if (window.to > window.from) return window.days.includes(day) && minute >= window.from && minute < window.to;
  // Past midnight: the evening of a start day, or the morning after one.
  if (minute >= window.from) return window.days.includes(day);
  return minute < window.to && window.days.includes((day + 6) % 7);
}

/**
 * A predicate "may the door open at wall time t" for a schedule (null:
 * always). Every zone's offset is a whole number of minutes today, so the
 * answer is the same within a UTC minute; it is worked out once per minute.
 */
export function compileSchedule(schedule: Schedule | null): (wallMs: number) => boolean {
  if (schedule === null) return () => true;
  const local = localTimeIn(schedule.timeZone);
  let cachedMinute = Number.NaN;
  let cachedAnswer = false;
  return (wallMs) => {
    const utcMinute = Math.floor(wallMs / 60_000);
    if (utcMinute !== cachedMinute) {
      const { day, minute } = local(wallMs);
      cachedAnswer = schedule.windows.some((window) => covers(window, day, minute));
      cachedMinute = utcMinute;
    }
    return cachedAnswer;
  };
}
