// The function node that makes the events of bench/sender.ts and of its
// harness (sender-harness.ts): `msg.payload = {count, prefix, wrap, per,
// template}` gives `count` events (the template with ids prefix0, prefix1 …)
// on output 1, one per message (wrapped in a one-element array when `wrap`)
// or, with `per` > 1, `per` to a message as an array; then the start message
// on output 2. Each message is a new object, so it is sent without the
// deep clone a function node makes by default (`node.send(msg, false)`): that
// clone is the generator's own cost, not the cost of what is measured.
export const GENERATOR = `
const { count, prefix, wrap, per = 1 } = msg.payload;
for (let first = 0; first < count; first += per) {
  const events = [];
  for (let i = first; i < Math.min(first + per, count); i++) events.push(Object.assign({}, msg.payload.template, { id: prefix + i }));
  node.send([{ payload: wrap || per > 1 ? events : events[0] }, null], false);
}
node.send([null, msg], false);
return null;
`;
