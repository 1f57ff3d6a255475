// Child process for the DurableQueue tests (spawned, never required).
//
//   node queue-crash-child.js crash <dir> <firstN> <segmentBytes>
//     Appends {n} records with n = firstN, firstN+1, ... in chunks of 1..20,
//     several appends in flight at once, while a consumer peeks and acks
//     batches of 1..50, staying 100 records behind. Prints `A <next n>` once an append resolved (every n
//     below is durable), `K <acked>` once an ack resolved, runs until killed.
//   node queue-crash-child.js fill <dir>
//     Run under `ulimit -f`: appends one record at a time until the file-size
//     limit makes write(2) fail, then reports what the queue looks like.
// stdout is a pipe, which Node writes synchronously on Linux: a line the
// parent reads was written after the promise it reports resolved.
import { DurableQueue } from '../../nodes/lib/delivery/queue/durable-queue';

interface Item {
  n: number;
  pad: string;
}

const say = (line: string): void => {
  process.stdout.write(line + '\n');
};

async function crash(dir: string, firstN: number, segmentBytes: number): Promise<void> {
  const queue = await DurableQueue.open({ dir, segmentBytes });
  say(`R ${queue.length}`);
  let next = firstN;
  let durable = firstN;
  const inFlight = new Set<Promise<void>>();
  const produce = async (): Promise<void> => {
    for (;;) {
      while (inFlight.size < 4) {
        const size = 1 + Math.floor(Math.random() * 20);
        const items = Array.from({ length: size }, () => ({ n: next++, pad: 'x'.repeat(Math.floor(Math.random() * 200)) }));
        const end = next;
        const p: Promise<void> = queue.append(items).then(() => {
          inFlight.delete(p);
          // appends resolve in order; report the highest n below which all is durable
          if (end > durable) durable = end;
          say(`A ${durable}`);
        });
        inFlight.add(p);
      }
      await Promise.race(inFlight);
    }
  };
  const consume = async (): Promise<void> => {
    let acked = -1;
    for (;;) {
      // Stays 100 records behind the producer, so that a backlog is left at the kill.
      const available = queue.length - 100;
      const batch =
        available > 0
          ? (await queue.peek(Math.min(available, 1 + Math.floor(Math.random() * 50)))).map((json) => JSON.parse(json.toString('utf8')) as Item)
          : [];
      if (batch.length === 0) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      if (acked >= 0 && batch[0].n !== acked) throw new Error(`peek returned ${batch[0].n}, expected ${acked}`);
      await queue.ack(batch.length);
      acked = batch[batch.length - 1].n + 1;
      say(`K ${acked}`);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
    }
  };
  await Promise.all([produce(), consume()]);
}

async function fill(dir: string): Promise<void> {
  const queue = await DurableQueue.open({ dir, segmentBytes: 64 * 1024 * 1024 });
  let n = 0;
  for (;;) {
    try {
      await queue.append([{ n, pad: 'y'.repeat(100) }]);
      n++;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      say(`E ${code} ${n} ${queue.length} ${queue.bytes}`);
      break;
    }
  }
  try {
    await queue.append([{ n, pad: 'y'.repeat(100) }]);
    say('E2 none');
  } catch (error) {
    say(`E2 ${(error as NodeJS.ErrnoException).code} ${queue.length} ${queue.bytes}`);
  }
  // Acknowledging needs no data block: it still works with the file at its limit.
  const first = (await queue.peek(1)).map((json) => JSON.parse(json.toString('utf8')) as Item);
  await queue.ack(1);
  say(`K ${first[0].n} ${queue.length}`);
  await queue.close();
  say('C');
}

const [mode, dir, a, b] = process.argv.slice(2);
const main = mode === 'crash' ? crash(dir, Number(a), Number(b)) : mode === 'fill' ? fill(dir) : Promise.reject(new Error(`unknown mode ${mode}`));
main.catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
