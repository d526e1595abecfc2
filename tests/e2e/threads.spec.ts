import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import { atPapersCutoff, watchErrors } from './helpers';

// The worker spreads one request's fits over helper workers (`?threads=N` caps how many run at
// once; by default the machine's cores). Each fit is the same code on the same rows wherever it
// runs, so the page must show the same models to the last digit on any count.

async function fitDemo(page: Page, threads: number) {
  await atPapersCutoff(page, `?threads=${threads}`);
  await page.click('#fit-models');
  if (threads > 1) {
    // What the page says while the helpers work.
    await expect(page.locator('#models-work')).toContainText(`${threads} at a time`, { timeout: 30_000 });
  }
  for (const m of ['bgnbd', 'pnbd', 'mbgnbd', 'gg']) {
    await expect(page.locator(`.fit[data-model="${m}"] .badge`)).toHaveText('converged', { timeout: 120_000 });
  }
  await expect(page.locator('#models-work')).toHaveCount(0);
  await expect(page.locator('#customer-table tbody tr')).toHaveCount(25);
  const fits = await page.locator('.fit').allTextContents();
  const table = await page.locator('#customer-table tbody').textContent();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-predictions-csv')]);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  return { fits, table, csv };
}

test('fits in two helper workers equal the fits on one thread, digit for digit', async ({ page }) => {
  const errors = watchErrors(page);
  const one = await fitDemo(page, 1);
  const two = await fitDemo(page, 2);
  expect(one.fits.length).toBe(4);
  expect(one.fits.join('')).toContain('converged');
  expect(two.fits).toEqual(one.fits);
  expect(two.table).toEqual(one.table);
  expect(two.csv.trimEnd().split('\n').length).toBe(1 + 23_570);
  expect(two.csv).toEqual(one.csv);
  expect(errors).toEqual([]);
});
