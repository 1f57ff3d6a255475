// The function node that makes the events of bench/sender.ts and of its
// harness (sender-harness.ts): `msg.payload = {count, prefix, wrap, template}`
// gives `count` messages on output 1 (the template with ids prefix0,
// prefix1 …; wrapped in a one-element array when `wrap`), then the start
// message on output 2. Each message is a new object, so it is sent without the
// deep clone a function node makes by default (`node.send(msg, false)`): that
// clone is the generator's own cost, not the cost of what is measured.
export const GENERATOR = `
const { count, prefix, wrap } = msg.payload;
for (let i = 0; i < count; i++) {
  const event = Object.assign({}, msg.payload.template, { id: prefix + i });
  node.send([{ payload: wrap ? [event] : event }, null], false);
}
node.send([null, msg], false);
return null;
`;
