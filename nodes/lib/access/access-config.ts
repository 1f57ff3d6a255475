// The findface-access node's properties, checked once: Parsed<T> with i18n
// problem codes as in lib/filter/filter.ts. A problem names its locale
// namespace: the allow filter's problems are findface-filter's own
// (`findface-filter.errors.<code>`, one wording for one rule), the rest are
// `findface-access.errors.<code>`.
import { compileFilter, ConfigProblem, firstKnownGroup, GroupResolver, groupsFromMap, parseCameraGroups, parseFilters } from '../filter/filter';
import type { AccessRules } from './decision';
import { compileSchedule, parseSchedule, Schedule, ScheduleProblemCode } from './schedule';

export interface AccessDef {
  door?: unknown;
  allow?: unknown;
  cameraGroups?: unknown;
  maxAgeS?: unknown;
  futureToleranceS?: unknown;
  cooldownS?: unknown;
  confirmFrames?: unknown;
  confirmWindowS?: unknown;
  schedule?: unknown;
  auditDays?: unknown;
  auditMaxMB?: unknown;
}

export type AccessProblemCode = ScheduleProblemCode | 'no-door' | 'bad-number' | 'bad-whole-number';

export type AccessProblem =
  | { namespace: 'findface-filter'; problem: ConfigProblem }
  | { namespace: 'findface-access'; problem: { code: AccessProblemCode; key?: string; value?: string } };

export type AccessParsed<T> = { ok: true; value: T } | { ok: false; problem: AccessProblem };

export const ACCESS_DEFAULTS = {
  allow: '{"matched": true}',
  maxAgeS: 5,
  futureToleranceS: 2,
  cooldownS: 5,
  confirmFrames: 1,
  confirmWindowS: 3,
  auditDays: 30,
  auditMaxMB: 10,
  maxPeople: 10_000,
} as const;

export interface AccessConfig {
  door: string;
  rules: Omit<AccessRules, 'startedAtMs'>;
  schedule: Schedule | null;
  auditDays: number;
  auditMaxBytes: number;
}

function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A number property: blank = its default; `min`/`max` inclusive; `whole` for counts. */
function numberProperty(
  def: AccessDef,
  key: keyof AccessDef & keyof typeof ACCESS_DEFAULTS,
  min: number,
  max: number,
  whole = false,
): { ok: true; value: number } | { ok: false; problem: AccessProblem } {
  const raw = def[key];
  if (blank(raw)) return { ok: true, value: ACCESS_DEFAULTS[key] as number };
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
  const fits = Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value));
  if (fits) return { ok: true, value };
  const code = whole ? 'bad-whole-number' : 'bad-number';
  return { ok: false, problem: { namespace: 'findface-access', problem: { code, key, value: String(raw).slice(0, 30) } } };
}

export function parseAccessConfig(def: AccessDef, serverGroups?: GroupResolver): AccessParsed<AccessConfig> {
  const access = (code: AccessProblemCode, value?: string): { ok: false; problem: AccessProblem } => ({
    ok: false,
    problem: { namespace: 'findface-access', problem: { code, value } },
  });
  if (typeof def.door !== 'string' || def.door.trim() === '') return access('no-door');
  const spec = parseFilters(blank(def.allow) ? ACCESS_DEFAULTS.allow : def.allow);
  if (!spec.ok) return { ok: false, problem: { namespace: 'findface-filter', problem: spec.problem } };
  const groups = parseCameraGroups(def.cameraGroups);
  if (!groups.ok) return { ok: false, problem: { namespace: 'findface-filter', problem: groups.problem } };
  const numbers = {
    maxAgeS: numberProperty(def, 'maxAgeS', 0, 86_400),
    futureToleranceS: numberProperty(def, 'futureToleranceS', 0, 3_600),
    cooldownS: numberProperty(def, 'cooldownS', 0, 86_400),
    confirmFrames: numberProperty(def, 'confirmFrames', 1, 100, true),
    confirmWindowS: numberProperty(def, 'confirmWindowS', 0, 3_600),
    auditDays: numberProperty(def, 'auditDays', 1, 3_650, true),
    auditMaxMB: numberProperty(def, 'auditMaxMB', 0.01, 10_000),
  };
  for (const parsed of Object.values(numbers)) if (!parsed.ok) return parsed;
  const value = (key: keyof typeof numbers) => (numbers[key] as { value: number }).value;
  const schedule = parseSchedule(def.schedule);
  if (!schedule.ok) return access(schedule.problem.code, schedule.problem.value);
  const resolvers = serverGroups ? [groupsFromMap(groups.value), serverGroups] : [groupsFromMap(groups.value)];
  return {
    ok: true,
    value: {
      door: def.door.trim(),
      schedule: schedule.value,
      auditDays: value('auditDays'),
      auditMaxBytes: Math.round(value('auditMaxMB') * 1024 * 1024),
      rules: {
        allow: compileFilter(spec.value, firstKnownGroup(...resolvers)),
        maxAgeMs: value('maxAgeS') * 1000,
        futureToleranceMs: value('futureToleranceS') * 1000,
        cooldownMs: value('cooldownS') * 1000,
        confirmFrames: value('confirmFrames'),
        confirmWindowMs: value('confirmWindowS') * 1000,
        openAt: compileSchedule(schedule.value),
        maxEntries: ACCESS_DEFAULTS.maxPeople,
      },
    },
  };
}
