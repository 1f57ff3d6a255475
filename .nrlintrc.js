// nrlint configuration for the example flows:
//   npx nrlint -c .nrlintrc.js examples/01-seed-walkthrough.json
// (test/unit/examples.test.ts runs it on every example). All of nrlint's
// rules; `function-eslint: true` lints function nodes with nrlint's own
// ESLint rule set (no-undef, no-unused-vars, ...).
module.exports = {
  rules: {
    'align-to-grid': true,
    'max-flow-size': true,
    'no-duplicate-http-in-urls': true,
    'no-loops': true,
    'no-overlapping-nodes': true,
    'no-unconnected-http-nodes': true,
    'no-unnamed-functions': true,
    'no-unnamed-links': true,
    'function-eslint': true,
  },
};
