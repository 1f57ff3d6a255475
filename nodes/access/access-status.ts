// The door access node's status: the last decision at a glance
// ("opened for 12 · 3 s ago"), the counts, and what needs a look (clock skew,
// an audit trail that cannot write).
import type { NodeStatus } from 'node-red';
import type { Decision } from '../lib/access/decision';

type Text = (key: string, params?: Record<string, string | number>) => string;

export interface AccessStatusInput {
  door: string;
  last?: { decision: Decision; atMono: number };
  counts: { granted: number; denied: number; cooldown: number };
  nowMono: number;
  skew: { ageMs?: number } | null;
  auditFailing: boolean;
  dropped: number;
}

function ago(text: Text, ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return text('status.secondsAgo', { n: seconds });
  if (seconds < 3600) return text('status.minutesAgo', { n: Math.floor(seconds / 60) });
  return text('status.hoursAgo', { n: Math.floor(seconds / 3600) });
}

export function accessStatus(text: Text, input: AccessStatusInput): NodeStatus & { text: string } {
  const { last, counts } = input;
  let fill: 'green' | 'yellow' | 'blue' | 'grey' | 'red' = 'grey';
  let head = text('status.waiting', { door: input.door });
  if (last) {
    const when = ago(text, input.nowMono - last.atMono);
    const decision = last.decision;
    if (decision.kind === 'granted') {
      fill = 'green';
      head = `${text('status.opened', { person: decision.personId })} · ${when}`;
    } else if (decision.kind === 'cooldown') {
      fill = 'blue';
      head = `${text('status.held', { person: decision.personId })} · ${when}`;
    } else {
      fill = 'yellow';
      head = `${text('status.denied', { reason: decision.reason })} · ${when}`;
    }
  }
  const parts = [head, `${counts.granted} ${text('status.open')} · ${counts.denied} ${text('status.deny')} · ${counts.cooldown} ${text('status.hold')}`];
  if (input.skew) {
    fill = 'red';
    parts.push(input.skew.ageMs === undefined ? text('status.skewNoDate') : text('status.skew', { seconds: Math.round(input.skew.ageMs / 1000) }));
  }
  if (input.auditFailing) {
    fill = 'red';
    parts.push(text('status.auditProblem', { dropped: input.dropped }));
  }
  return { fill, shape: fill === 'green' ? 'dot' : 'ring', text: parts.join(' · ') };
}
