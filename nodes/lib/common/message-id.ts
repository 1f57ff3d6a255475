// Message ids (`_msgid`) for messages a source makes. Node-RED gives a
// message sent without one an id of 16 hex digits from eight Math.random()
// calls (@node-red/util generateId), about 3 µs each time: a tenth of what
// the rest of a webhook request costs us on the own port. These are 16 hex
// digits too: a random prefix drawn once per process and a counter, so ids
// never repeat within a process (a new prefix when the counter wraps).
import { randomBytes } from 'crypto';

let prefix = randomBytes(4).toString('hex');
let counter = 0;

export function nextMessageId(): string {
  counter = (counter + 1) >>> 0;
  if (counter === 0) prefix = randomBytes(4).toString('hex');
  return prefix + counter.toString(16).padStart(8, '0');
}
