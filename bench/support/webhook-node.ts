// The findface-webhook node as the benchmarks place it: batch 100, send at
// once, the node's own defaults otherwise; each bench overrides what it
// measures (title, backoff cap, queue limits …).
export function webhookNode(id: string, url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    type: 'findface-webhook',
    z: 'tab',
    name: '',
    title: id,
    url,
    active: true,
    batchSize: 100,
    lingerMs: 0,
    timeout: 10000,
    backoffBase: 0.1,
    backoffFactor: 2.7,
    backoffMax: 100,
    maxAttempts: 10,
    successCodes: '200',
    queueMaxEvents: 1000000,
    queueMaxMb: 256,
    wires: [[], []],
    ...overrides,
  };
}
