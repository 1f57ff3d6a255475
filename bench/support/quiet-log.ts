// Node-RED at log level `warn` for benchmarks whose nodes log per event at
// `info` (the webhook node's FindFace log lines): a million of them would be
// written to the pipe and kept in NodeRedProcess's log, and with no logger at
// `info` the node does not make them at all. NodeRedProcess then waits for a
// readiness route of its own instead of the "Started flows" line.
export const WARN_LOGGING = { console: { level: 'warn', metrics: false, audit: false } };
