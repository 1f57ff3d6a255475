import assert from 'assert/strict';
import { infoLogged } from '../../nodes/lib/common/log-level';

describe('log level', () => {
  it('logs info lines with no logging settings, or no loggers (Node-RED then uses the console at info)', () => {
    assert.equal(infoLogged(undefined), true);
    assert.equal(infoLogged(null), true);
    assert.equal(infoLogged({}), true);
  });

  it("reads the console logger's level, info when missing or unknown", () => {
    assert.equal(infoLogged({ console: { level: 'info' } }), true);
    assert.equal(infoLogged({ console: { level: 'debug' } }), true);
    assert.equal(infoLogged({ console: { level: 'trace' } }), true);
    assert.equal(infoLogged({ console: {} }), true);
    assert.equal(infoLogged({ console: { level: 'loud' } }), true);
    assert.equal(infoLogged({ console: { level: 'warn' } }), false);
    assert.equal(infoLogged({ console: { level: 'error' } }), false);
    assert.equal(infoLogged({ console: { level: 'off' } }), false);
  });

  it('counts a custom logger only when it has a handler, and logs when any logger takes info', () => {
    const handler = () => () => undefined;
    assert.equal(infoLogged({ console: { level: 'warn' }, file: { level: 'info', handler } }), true);
    assert.equal(infoLogged({ console: { level: 'warn' }, file: { level: 'info' } }), false, 'no handler: Node-RED ignores it');
    assert.equal(infoLogged({ console: { level: 'warn' }, file: { level: 'error', handler } }), false);
    assert.equal(infoLogged({ other: { level: 'warn', handler } }), false, 'no console key: only the listed loggers exist');
  });
});
