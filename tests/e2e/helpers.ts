import { Page, expect } from '@playwright/test';
import * as fs from 'fs';

/** The page's own static files (URL paths): any other request after the upload is a leak. */
export const STATIC = [/\/$/, /\/index\.html$/, /\.css$/, /\/boot\.js$/, /\/clv-app-[0-9a-f]+\.js$/, /\/clv-app-[0-9a-f]+_bg\.wasm$/,
  /\/worker_loader\.js$/, /\/worker\.js$/, /\/worker_bg\.wasm$/, /\/demo\/cdnow\.csv$/];

/** Collect console errors and page errors; tests assert the list stays empty. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', e => errors.push(String(e)));
  return errors;
}

/** The settings many comparisons with the CLI were written at: a cutoff 90 days before the
 * demo's end and a 90-day horizon (the page's defaults are the end of data and 12 months). */
export const APRIL = '#/data?cutoff=1998-04-01&horizon=90';

/** The demo loaded; `fragment` is a link's settings (e.g. APRIL). */
export async function loadDemo(page: Page, fragment = '') {
  await page.goto('/' + fragment);
  await page.click('#demo');
  await expect(page.locator('#stat-rows')).toHaveText('69,659', { timeout: 60_000 });
}

/** A CSV of `rows` simulated-looking transactions, written to `path`. */
export function writeBigCsv(path: string, rows: number) {
  const fd = fs.openSync(path, 'w');
  fs.writeSync(fd, 'user_id,ts,amount\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const day = 1 + (i % 28);
    const month = 1 + (Math.floor(i / 28) % 12);
    chunk += `u${i % 50000},2023-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')},${(i % 997) / 10 + 1}\n`;
    if (chunk.length > 1 << 20) { fs.writeSync(fd, chunk); chunk = ''; }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}
