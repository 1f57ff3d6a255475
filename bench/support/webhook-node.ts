// The findface-webhook node as the benchmarks place it: batch 100, and the
// node's own defaults (blank properties) otherwise; each bench overrides what
// it measures (title, backoff cap, queue limits …).
export function webhookNode(id: string, url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    type: 'findface-webhook',
    z: 'tab',
    name: '',
    title: id,
    url,
    batchSize: 100,
    wires: [[], []],
    ...overrides,
  };
}
