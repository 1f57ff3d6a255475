// Whether Node-RED's loggers print `info` lines (node.log), read from the
// `logging` object of settings.js the way Node-RED reads it: no `logging`, or
// one without loggers, means the console logger at `info`; otherwise each key
// that is `console` or has a `handler` is a logger at its `level` (an unknown
// or missing level means `info`). A node whose per-event lines no logger
// prints skips making them: each node.log call costs Node-RED an Error with a
// stack trace, whatever the level.

const LEVELS: Record<string, number> = { off: 1, fatal: 10, error: 20, warn: 30, info: 40, debug: 50, trace: 60 };
const INFO = LEVELS.info;

export function infoLogged(logging: unknown): boolean {
  if (!logging || typeof logging !== 'object') return true;
  const loggers = Object.entries(logging as Record<string, unknown>);
  if (loggers.length === 0) return true;
  return loggers.some(([name, config]) => {
    const settings = config && typeof config === 'object' ? (config as { level?: unknown; handler?: unknown }) : {};
    if (name !== 'console' && !settings.handler) return false;
    const level = typeof settings.level === 'string' && Object.hasOwn(LEVELS, settings.level) ? LEVELS[settings.level] : INFO;
    return level >= INFO;
  });
}
