// Node-RED at log level `warn` for benchmarks whose nodes log per event at
// `info` (the webhook node's FindFace log lines): a million of them would be
// written to the pipe and kept in NodeRedProcess's log. NodeRedProcess.start()
// waits for the `info` line "Started flows", so a second logger passes on the
// runtime's flow start/stop lines only. Settings are JSON in NodeRedProcess;
// a logger needs a function, so it is appended to the written settings.js.
import fs from 'fs';
import path from 'path';

export const WARN_LOGGING = { console: { level: 'warn', metrics: false, audit: false } };

/** Call after NodeRedProcess.create({settings: {logging: WARN_LOGGING}}) and before start(). */
export function passFlowStartLines(userDir: string): void {
  const file = path.join(userDir, 'settings.js');
  fs.appendFileSync(
    file,
    `module.exports.logging = module.exports.logging || {};
module.exports.logging.benchFlowLines = {
  level: 'info', metrics: false, audit: false,
  handler: function () {
    return function (msg) {
      if (typeof msg.msg === 'string' && /^(Started|Stopped|Starting|Stopping) flows/.test(msg.msg)) console.log('[info] ' + msg.msg);
    };
  },
};
`,
  );
}
