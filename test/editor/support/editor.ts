// Shared set-up of the editor tests (test/editor/*.test.ts): a real Node-RED
// with the packed package and its editor in Chromium (session.ts, browser.ts),
// the workspace (workspace.ts), the edit dialogs (dialog.ts) and the help (help.ts).
export * from './session';
export * from './workspace';
export * from './dialog';
export * from './help';
