// Checks of the package's message catalogs, loaded through @node-red/util's
// i18n (the library behind RED._) exactly as Node-RED loads them: one
// namespace per node, `<node dir>/locales/<lang>/<type>.json`.
import fs from 'fs';
import path from 'path';

const i18n = require('@node-red/util').i18n as {
  init(settings: { lang?: string }): void;
  registerMessageCatalog(namespace: string, dir: string, file: string): Promise<void>;
  catalog(namespace: string, lang: string): Catalog | null;
  _(key: string, options?: Record<string, unknown>): string;
  i: { loadLanguages(languages: string[], callback: (err: unknown) => void): void };
};

export type Catalog = { [key: string]: string | Catalog };

export interface NodeCatalogs {
  type: string;
  namespace: string;
  dir: string;
  catalogs: Record<string, Catalog>;
}

export const LANGUAGES = ['en-US', 'ru'];

/** Every leaf of a catalog as `dotted.key → text`. */
export function flatten(catalog: Catalog, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog)) {
    const full = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(full, value);
    else for (const [k, v] of flatten(value, full)) out.set(k, v);
  }
  return out;
}

/** The `__name__` placeholders of a text, sorted and without repeats. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/__([A-Za-z0-9_]+)__/g)].map((m) => m[1]))].sort();
}

/** What is wrong between the languages of one catalog: missing keys and placeholder mismatches. */
export function catalogProblems(catalogs: Record<string, Catalog>, reference = 'en-US'): string[] {
  const problems: string[] = [];
  const base = flatten(catalogs[reference] ?? {});
  for (const [lang, catalog] of Object.entries(catalogs)) {
    if (lang === reference) continue;
    const other = flatten(catalog);
    for (const [key, text] of base) {
      const translated = other.get(key);
      if (translated === undefined) {
        problems.push(`${lang}: missing ${key}`);
        continue;
      }
      const want = placeholders(text).join(',');
      const got = placeholders(translated).join(',');
      if (want !== got) problems.push(`${lang}: ${key} has placeholders [${got}], ${reference} has [${want}]`);
      if (!translated.trim()) problems.push(`${lang}: ${key} is empty`);
    }
    for (const key of other.keys()) if (!base.has(key)) problems.push(`${lang}: ${key} is not in ${reference}`);
  }
  return problems;
}

let initialised = false;

/** Loads one node's catalogs in every language through @node-red/util's i18n. */
export async function loadNodeCatalogs(nodeFile: string, type: string, namespacePrefix = 'node-red-contrib-findface'): Promise<NodeCatalogs> {
  if (!initialised) {
    i18n.init({ lang: 'en-US' });
    initialised = true;
  }
  const dir = path.join(path.dirname(nodeFile), 'locales');
  const namespace = `${namespacePrefix}/${type}`;
  await i18n.registerMessageCatalog(namespace, dir, `${type}.json`);
  const languages = fs.readdirSync(dir).filter((lang) => fs.existsSync(path.join(dir, lang, `${type}.json`)));
  // i18next loads the runtime's language at registration; the others on demand.
  await new Promise<void>((resolve, reject) => i18n.i.loadLanguages(languages, (err) => (err ? reject(err) : resolve())));
  const catalogs: Record<string, Catalog> = {};
  for (const lang of languages) {
    if (!i18n.catalog(namespace, lang)) throw new Error(`@node-red/util did not load ${lang}/${type}.json`);
    // The loaded catalog has the fallback language merged in (a key missing in
    // ru shows in English), so which keys a language has is read from its file.
    catalogs[lang] = JSON.parse(fs.readFileSync(path.join(dir, lang, `${type}.json`), 'utf8')) as Catalog;
  }
  return { type, namespace, dir, catalogs };
}

/** A full key (`type.section.name`) rendered as Node-RED renders it at runtime, in one language. */
export function render(namespace: string, key: string, lang: string, params: Record<string, unknown> = {}): string {
  return i18n._(`${namespace}:${key}`, { lng: lang, ...params });
}

/**
 * The catalog keys an editor file names: `data-i18n="type.key"` (with the
 * `[attr]` prefixes Node-RED allows) and `_("type.key")` / `this._("type.key")`.
 * Keys built at run time (`"type.status." + x`) cannot be seen and are not listed.
 */
export function keysNamedInHtml(html: string, type: string): string[] {
  const keys = new Set<string>();
  const prefix = `${type}.`;
  for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
    for (const part of m[1].split(';')) {
      const key = part.replace(/^\[[^\]]+\]/, '');
      if (key.startsWith(prefix)) keys.add(key);
    }
  }
  for (const m of html.matchAll(/_\(\s*["'`]([^"'`]+)["'`]/g)) {
    if (m[1].startsWith(prefix) && !m[1].endsWith('.')) keys.add(m[1]);
  }
  return [...keys].sort();
}
