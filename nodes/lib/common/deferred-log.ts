// Log lines written once the current turn of the event loop is over. The
// webhook's per-event lines (FindFace's, at info) cost about 0.1 ms each on a
// small machine (Node-RED's logger and a write to stdout); written inline they
// sit between an event's arrival and its POST. Info and warn lines share one
// queue, so their order is kept; an error flushes the queue first, so it
// never appears before the lines that led to it.
interface LineSink {
  log(line: string): void;
  warn(line: string): void;
}

export class DeferredLog {
  private lines: { warn: boolean; line: string }[] = [];
  private pending: NodeJS.Immediate | undefined;

  constructor(private readonly sink: LineSink) {}

  log(line: string): void {
    this.push(false, line);
  }

  warn(line: string): void {
    this.push(true, line);
  }

  /** Writes every queued line now (before an error, and on close). */
  flush(): void {
    if (this.pending !== undefined) clearImmediate(this.pending);
    this.pending = undefined;
    const lines = this.lines;
    this.lines = [];
    for (const { warn, line } of lines) {
      if (warn) this.sink.warn(line);
      else this.sink.log(line);
    }
  }

  private push(warn: boolean, line: string): void {
    this.lines.push({ warn, line });
    this.pending ??= setImmediate(() => this.flush());
  }
}
