// A node's edit dialog (the tray): opening and closing it, typing into its
// fields, and what it shows: a field marked invalid, a label too long for its
// box, the answer of a test button.
import type { Locator, Page } from 'playwright-core';
import { waitFor } from '../../support/wait';
import { UI_TIMEOUT_MS } from './session';
import { workspaceNode } from './workspace';

// Browser-side globals, only ever used inside page.evaluate / waitForFunction.
declare const RED: any;
declare const $: any;

/** The topmost open tray (a config node's dialog opens over its node's). */
export function topTray(page: Page): Locator {
  return page.locator('.red-ui-tray').last();
}

async function trayReady(page: Page, okButton: string): Promise<Locator> {
  const tray = topTray(page);
  await tray.locator(okButton).waitFor({ state: 'visible' });
  // oneditprepare has run once the form is in the tray
  await tray.locator('form#dialog-form, form#node-config-dialog-edit-form, .red-ui-tray-body form').first().waitFor({ state: 'attached' });
  return tray;
}

/** Opens the node's edit dialog (as a double-click does) and waits for its form. */
export async function openEditDialog(page: Page, id: string): Promise<Locator> {
  // A dialog still closing (its tray slides out) would take the new one into its stack.
  await page.waitForFunction(() => $('.red-ui-tray').length === 0 && RED.view.state() !== RED.state.EDITING);
  await page.evaluate((nodeId) => RED.editor.edit(RED.nodes.node(nodeId)), id);
  return trayReady(page, '#node-dialog-ok');
}

/**
 * Opens the node's edit dialog by double-clicking it, as a user does. The
 * editor takes two clicks as a double-click only within 650 ms of its own
 * clock; on a loaded machine the second may come later, and a user would
 * double-click again: so does this, until the dialog opens.
 */
export async function openEditDialogByDoubleClick(page: Page, id: string): Promise<Locator> {
  await waitFor(
    async () => {
      await workspaceNode(page, id).dblclick();
      // The editor opens the tray in the same handler that sees the double-click.
      return page.evaluate(() => RED.view.state() === RED.state.EDITING || $('.red-ui-tray #node-dialog-ok').length > 0);
    },
    UI_TIMEOUT_MS,
    'the edit dialog to open on a double-click',
  );
  return trayReady(page, '#node-dialog-ok');
}

/** Opens the edit dialog of a config node (Configuration nodes sidebar, or a node's pencil button). */
export async function openConfigDialog(page: Page, id: string): Promise<Locator> {
  await page.evaluate((nodeId) => {
    const node = RED.nodes.node(nodeId);
    RED.editor.editConfig('', node.type, node.id);
  }, id);
  return trayReady(page, '#node-config-dialog-ok');
}

export async function closeWithDone(page: Page): Promise<void> {
  await page.locator('#node-dialog-ok').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

export async function closeWithCancel(page: Page): Promise<void> {
  await page.locator('#node-dialog-cancel').click();
  await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
}

export async function closeConfigWithCancel(page: Page): Promise<void> {
  await page.locator('#node-config-dialog-cancel').click();
  await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
}

/** The visible text field of a typedInput (the `<input id>` itself is hidden). */
export function typedInputField(page: Page, inputId: string): Locator {
  return page.locator(`#${inputId} + .red-ui-typedInput-container input.red-ui-typedInput-input`);
}

/** Types into a field and leaves it, as a user does (the editor validates on change). */
export async function fillAndLeave(field: Locator, text: string): Promise<void> {
  await field.fill(text);
  await field.press('Tab');
}

/** Types into a typedInput and leaves it. */
export async function fillTypedInput(page: Page, inputId: string, text: string): Promise<void> {
  await fillAndLeave(typedInputField(page, inputId), text);
}

/** Whether the dialog shows the field as invalid (the red border the editor's validation gives it). */
export async function hasInputError(page: Page, inputId: string): Promise<boolean> {
  return page.evaluate((id) => {
    const input = $(`#${id}`);
    if (input.length === 0) throw new Error(`no #${id} in the dialog`);
    return input.hasClass('input-error') || input.next('.red-ui-typedInput-container').hasClass('input-error');
  }, inputId);
}

/**
 * Waits until the dialog marks the field invalid: for a config node select, which the editor fills and validates
 * only after the dialog has opened.
 */
export async function waitForInputError(page: Page, inputId: string): Promise<void> {
  await waitFor(() => hasInputError(page, inputId), UI_TIMEOUT_MS, `the dialog to mark #${inputId} invalid`);
}

export interface LabelBox {
  text: string;
  /** The text's width, and the label's box. */
  scrollWidth: number;
  clientWidth: number;
}

/** The visible row labels of the topmost dialog whose text does not fit in the label's box. */
export async function overflowingLabels(page: Page): Promise<LabelBox[]> {
  return page.evaluate(() => {
    const found: Array<{ text: string; scrollWidth: number; clientWidth: number }> = [];
    $('.red-ui-tray')
      .last()
      .find('.form-row > label:visible')
      .each(function (this: any) {
        const text = String(this.textContent).replace(/\s+/g, ' ').trim();
        if (text && this.scrollWidth > this.clientWidth + 1) found.push({ text, scrollWidth: this.scrollWidth, clientWidth: this.clientWidth });
      });
    return found;
  });
}

/** The visible row labels of the topmost dialog, as shown. */
export async function dialogLabels(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    $('.red-ui-tray')
      .last()
      .find('.form-row label:visible')
      .map(function (this: any) {
        return String(this.textContent).replace(/\s+/g, ' ').trim();
      })
      .get()
      .filter((text: string) => text.length > 0),
  );
}

export interface ResultLook {
  text: string;
  classes: string[];
  color: string;
  /** What the stylesheet puts before the text (the ✔ or ✘), as CSS gives it, e.g. `"✔ "`; `none` for nothing. */
  mark: string;
}

/** How a test button's answer looks: its text, classes and colour as rendered. */
export async function resultLook(page: Page, selector: string): Promise<ResultLook> {
  return page.evaluate((sel) => {
    const element = $(sel);
    if (element.length === 0) throw new Error(`no ${sel} in the dialog`);
    return {
      text: String(element.text()).trim(),
      classes: String(element.attr('class') ?? '')
        .split(/\s+/)
        .filter(Boolean),
      color: (globalThis as any).getComputedStyle(element[0]).color as string,
      mark: (globalThis as any).getComputedStyle(element[0], '::before').content as string,
    };
  }, selector);
}
