// The one convention for configuration errors (the filter's, lib/filter/filter.ts):
// a parse function answers the typed value or the first problem, as an i18n
// code and its parameters. The node looks the text up in its locale files
// (`<node type>.errors.<code>`, en-US and ru), so no error is English-only.

/** What is wrong, as `<node type>.errors.<code>` and the parameters its text uses. */
export interface Problem<Code extends string = string> {
  code: Code;
  [param: string]: string | number | undefined;
}

export type Parsed<T, Code extends string = string> = { ok: true; value: T } | { ok: false; problem: Problem<Code> };

export function parsedValue<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function parseProblem<Code extends string>(code: Code, params: Omit<Problem<Code>, 'code'> = {}): { ok: false; problem: Problem<Code> } {
  return { ok: false, problem: { ...params, code } as Problem<Code> };
}

/** A value for a problem's parameters: text as it is, anything else as short JSON. */
export function shownValue(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
