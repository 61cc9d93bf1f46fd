import type { Page } from '@playwright/test';

/** What the focused element looks like, for tabTo's predicate. */
export interface FocusedInfo {
  tag: string;
  role: string | null;
  /** Accessible-name-ish: aria-label, else the trimmed text. */
  name: string;
  testId: string | null;
  dataset: Record<string, string>;
}

/** Describes document.activeElement. */
export async function focused(page: Page): Promise<FocusedInfo> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      role: el?.getAttribute('role') ?? null,
      name: (el?.getAttribute('aria-label') ?? el?.textContent ?? '').trim(),
      testId: el?.getAttribute('data-testid') ?? null,
      dataset: { ...(el?.dataset ?? {}) } as Record<string, string>,
    };
  });
}

/**
 * Presses Tab (or Shift+Tab) until the focused element satisfies `want` — the way a keyboard
 * user reaches a control. Throws after `max` presses, naming what was focused on the way.
 */
export async function tabTo(page: Page, want: (f: FocusedInfo) => boolean, opts: { back?: boolean; max?: number } = {}): Promise<FocusedInfo> {
  const seen: string[] = [];
  for (let i = 0; i < (opts.max ?? 80); i++) {
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (want(f)) return f;
    seen.push(`${f.tag}${f.role ? `[${f.role}]` : ''} "${f.name.slice(0, 40)}"`);
  }
  throw new Error(`keyboard: the wanted control was not reached with ${opts.back ? 'Shift+Tab' : 'Tab'}; focused on the way: ${seen.join(' → ')}`);
}
