// A node's help as the editor loaded it for its language (what the Help
// sidebar shows): its headings, the types it gives message properties, and
// the text under a heading.
import type { Page } from 'playwright-core';

// Browser-side global, only ever used inside page.evaluate.
declare const RED: any;
declare const $: any;

export interface HelpOutline {
  /** The <h3> headings, in order. */
  sections: string[];
  /** The <h4> headings, in order. */
  subsections: string[];
  /** The text of every <span class="property-type">. */
  propertyTypes: string[];
}

export async function helpOutline(page: Page, type: string): Promise<HelpOutline> {
  return page.evaluate((t) => {
    const html: string = RED.nodes.getNodeHelp(t) ?? '';
    if (!html.trim()) throw new Error(`no help for ${t} in the editor`);
    const help = $('<div>').html(html);
    const texts = (selector: string): string[] =>
      help
        .find(selector)
        .map(function (this: any) {
          return String($(this).text()).replace(/\s+/g, ' ').trim();
        })
        .get();
    return { sections: texts('h3'), subsections: texts('h4'), propertyTypes: texts('.property-type') };
  }, type);
}

/** The text under the <h3> heading `section`, up to the next <h3>. */
export async function helpSection(page: Page, type: string, section: string): Promise<string> {
  return page.evaluate(
    ({ t, heading }) => {
      const help = $('<div>').html(RED.nodes.getNodeHelp(t) ?? '');
      const start = help.children('h3').filter(function (this: any) {
        return String($(this).text()).trim() === heading;
      });
      if (start.length === 0) throw new Error(`no section "${heading}" in the help of ${t}`);
      return String(start.nextUntil('h3').text()).replace(/\s+/g, ' ').trim();
    },
    { t: type, heading: section },
  );
}
