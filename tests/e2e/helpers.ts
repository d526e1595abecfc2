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

/** Fader, Hardie & Lee's split on the demo: the cutoff (and the Accuracy view's calibration)
 * 1997-09-30, a 90-day horizon as the CLI's expected predictions; `query` goes before the link
 * (e.g. `?threads=2`). */
export async function atPapersCutoff(page: Page, query = '') {
  await loadDemo(page, query + '#/data?horizon=90&calibration=1997-09-30');
  await expect(page.locator('#sum-customers')).toHaveText('23,570');
  await page.fill('#cutoff', '1997-09-30');
  await page.locator('#cutoff').dispatchEvent('change');
  await page.click('#compute');
  await expect(page.locator('#sum-repeat')).not.toHaveText('');
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

/** Two predictions CSVs (`clv predict`'s columns) with the same rows in the same order, text
 * cells equal and numbers equal up to floating-point rounding between the native and the wasm
 * builds of the same code: the optimum is pinned to a gradient below 1e-11, which leaves ~1e-8
 * relative in the parameters. One assertion per kind of difference, not per row (23,570
 * `expect`s took minutes). */
export function expectSamePredictions(page: string, cli: string, tolerance = 1e-7) {
  const ours = page.trim().split('\n'), theirs = cli.trim().split('\n');
  expect(ours.length).toBe(theirs.length);
  expect(ours[0]).toBe(theirs[0]);
  const header = theirs[0].split(',');
  const text = new Set(['user_id', 'spend_backfilled'].map(c => header.indexOf(c)));
  let worst = 0;
  let where = '';
  const textDiffers: string[] = [];
  for (let i = 1; i < theirs.length; i++) {
    const a = ours[i].split(','), b = theirs[i].split(',');
    for (let j = 0; j < header.length; j++) {
      if (text.has(j)) {
        if (a[j] !== b[j]) textDiffers.push(`row ${i} ${header[j]}: page ${a[j]} vs CLI ${b[j]}`);
        continue;
      }
      const x = Number(a[j]), y = Number(b[j]);
      const rel = Math.abs(x - y) / Math.max(Math.abs(y), 1e-12);
      if (!(rel <= worst)) { worst = rel; where = `row ${i} column ${header[j]}: page ${a[j]} vs CLI ${b[j]}`; }
    }
  }
  console.log(`worst relative difference page vs CLI: ${worst.toExponential(2)} at ${where}`);
  expect(textDiffers.slice(0, 5)).toEqual([]);
  expect(worst).toBeLessThan(tolerance);
}
