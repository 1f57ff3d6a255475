// The shell's reading of a node's `property` (nodes/shell/event-property.ts)
// with the real RED.util of @node-red/util: defaults for saved flows, the
// expressions core nodes accept, and what is refused.
import assert from 'assert/strict';
import type { NodeMessage } from 'node-red';
import { messageProperty, parseEventProperty, setMessageProperty } from '../../nodes/shell/event-property';

const util = require('@node-red/util').util;

describe('event property (shell/event-property.ts)', () => {
  it('is msg.payload when neither property nor propertyType is saved', () => {
    assert.deepEqual(parseEventProperty(util, {}, ['msg']), { ok: true, value: { type: 'msg', name: 'payload', label: 'msg.payload' } });
  });

  it('takes message expressions as core nodes write them, with or without "msg."', () => {
    assert.deepEqual(parseEventProperty(util, { property: 'msg.event' }, ['msg']), { ok: true, value: { type: 'msg', name: 'msg.event', label: 'msg.event' } });
    for (const property of ['event', 'data.events[0]', 'data["the event"]']) {
      const parsed = parseEventProperty(util, { property, propertyType: 'msg' }, ['msg']);
      assert.ok(parsed.ok, property);
      assert.equal(parsed.value.label, `msg.${property}`);
    }
  });

  it('takes flow and global keys, with a context store, only where offered', () => {
    assert.deepEqual(parseEventProperty(util, { property: '#:(file)::pending', propertyType: 'flow' }, ['msg', 'flow', 'global']), {
      ok: true,
      value: { type: 'flow', name: '#:(file)::pending', label: 'flow.#:(file)::pending' },
    });
    assert.deepEqual(parseEventProperty(util, { property: 'pending', propertyType: 'global' }, ['msg']), {
      ok: false,
      problem: { code: 'bad-property-type', type: 'global', types: 'msg' },
    });
  });

  it('refuses an empty property and an expression Node-RED cannot read, naming it', () => {
    assert.deepEqual(parseEventProperty(util, { property: '' }, ['msg']), { ok: false, problem: { code: 'bad-property', property: 'msg.', detail: 'empty' } });
    assert.deepEqual(parseEventProperty(util, { property: 42 }, ['msg']), {
      ok: false,
      problem: { code: 'bad-property', property: 'msg.42', detail: 'empty' },
    });
    for (const property of ['event..id', 'event[', '.event', 'a b']) {
      const parsed = parseEventProperty(util, { property }, ['msg']);
      assert.equal(parsed.ok, false, property);
      if (!parsed.ok) {
        assert.equal(parsed.problem.code, 'bad-property');
        assert.equal(parsed.problem.property, `msg.${property}`);
        assert.match(String(parsed.problem.detail), /Invalid property expression/);
      }
    }
  });

  it('reads undefined for a missing property or a missing parent, and writes creating parents', () => {
    const parsed = parseEventProperty(util, { property: 'data.event' }, ['msg']);
    assert.ok(parsed.ok);
    const msg = { _msgid: 'm' } as NodeMessage;
    assert.equal(messageProperty(util, msg, parsed.value), undefined);
    setMessageProperty(util, msg, parsed.value, [1]);
    assert.deepEqual((msg as unknown as { data: unknown }).data, { event: [1] });
    assert.deepEqual(messageProperty(util, msg, parsed.value), [1]);
  });
});
