// Where a node reads the event (CONTRACT.md "Where nodes read the event"):
// its `property` (default `payload`, so flows saved before it read
// msg.payload as they did), a message property for every node, and for the
// webhook also a flow or global context key (`propertyType`). Read and written
// with Node-RED's own util (RED.util, from @node-red/util): the same property
// expressions as core's switch, change and split nodes. Only the types come
// from @node-red/util here; the functions are the runtime's RED.util.
import type { Node, NodeMessage } from 'node-red';
import type { Util } from '@node-red/util';
import { parsedValue, parseProblem, Parsed } from '../lib/common/parsed';

export type PropertyType = 'msg' | 'flow' | 'global';

export interface EventProperty {
  type: PropertyType;
  /** The expression or context key: `payload`, `event.face`, `#:(file)::lastEvent`. */
  name: string;
  /** How messages and errors name it: `msg.payload`, `flow.lastEvent`. */
  label: string;
}

/** The editor's stored fields: `property`, and `propertyType` where a node offers more than msg. */
export interface EventPropertyDef {
  property?: unknown;
  propertyType?: unknown;
}

export type EventPropertyProblem = 'bad-property' | 'bad-property-type';

export const DEFAULT_EVENT_PROPERTY = 'payload';

/** The node's property, checked once at deploy: a bad expression is refused then, not on every message. */
export function parseEventProperty(util: Util, def: EventPropertyDef, types: readonly PropertyType[]): Parsed<EventProperty, EventPropertyProblem> {
  const type = def.propertyType === undefined || def.propertyType === '' ? 'msg' : def.propertyType;
  if (!types.includes(type as PropertyType)) return parseProblem('bad-property-type', { type: String(type), types: types.join(', ') });
  const name = def.property === undefined ? DEFAULT_EVENT_PROPERTY : def.property;
  const label = `${String(type)}.${String(name)}`;
  if (typeof name !== 'string' || name.trim() === '') return parseProblem('bad-property', { property: label, detail: 'empty' });
  const expression = type === 'msg' ? name.replace(/^msg\./, '') : contextKey(name);
  try {
    util.normalisePropertyExpression(expression);
  } catch (error) {
    return parseProblem('bad-property', { property: label, detail: (error as Error).message });
  }
  return parsedValue({ type: type as PropertyType, name, label: type === 'msg' ? `msg.${name.replace(/^msg\./, '')}` : label });
}

/** A context key without its store prefix (`#:(file)::key` → `key`), as Node-RED's context reads it. */
function contextKey(name: string): string {
  const stored = /^#:\((\S+?)\)::(.*)$/.exec(name);
  return stored ? stored[2] : name;
}

/** The message property's value; undefined when it, or a parent of it, is not set. */
export function messageProperty(util: Util, msg: NodeMessage, property: EventProperty): unknown {
  try {
    return util.getMessageProperty(msg, property.name);
  } catch {
    // getMessageProperty throws when a parent (msg.event in msg.event.face) is missing: that holds no event either.
    return undefined;
  }
}

/** Sets the message property (the filter's passing or failing events), creating missing parents. */
export function setMessageProperty(util: Util, msg: NodeMessage, property: EventProperty, value: unknown): void {
  util.setMessageProperty(msg, property.name, value, true);
}

/** The property's value, from the message or the flow or global context (whose store may answer later). */
export function readEventProperty(
  util: Util,
  node: Node,
  msg: NodeMessage,
  property: EventProperty,
  callback: (error: Error | null, value: unknown) => void,
): void {
  if (property.type === 'msg') {
    callback(null, messageProperty(util, msg, property));
    return;
  }
  util.evaluateNodeProperty(property.name, property.type, node, msg, (error: Error | null, value: unknown) => callback(error, value));
}
