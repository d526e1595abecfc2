import { test, expect } from '@playwright/test';
import { loadDemo, watchErrors, writeBigCsv } from './helpers';

test('first page: name, promise, drop zone, demo button', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await expect(page.locator('h1')).toHaveText('CLV Lab');
  await expect(page.locator('.tagline')).toHaveText('Your data never leaves this browser tab.');
  await expect(page.locator('#drop-zone')).toBeVisible();
  await expect(page.locator('#demo')).toHaveText('Try the demo data');
  expect(errors).toEqual([]);
});

test('demo data: ingest report and customers at a cutoff', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  // Numbers the native CLI gives for the same file (`clv inspect`).
  await expect(page.locator('#stat-accepted')).toHaveText('69,404');
  await expect(page.locator('#stat-duplicates')).toHaveText('255');
  await expect(page.locator('#stat-rejected')).toHaveText('0');
  await expect(page.locator('#stat-customers')).toHaveText('23,570');
  await expect(page.locator('#stat-range')).toHaveText('1997-01-01 → 1998-06-30');
  await expect(page.locator('#stat-revenue')).toHaveText('2,495,982.75');
  await expect(page.locator('#columns')).toContainText('YYYY-MM-DD');
  // Summary at the default cutoff: CLV from today (the last day of data, 12 months ahead),
  // with the Accuracy view's own split; then at earlier cutoffs.
  await expect(page.locator('#cutoff')).toHaveValue('1998-06-30');
  await expect(page.locator('#horizon')).toHaveValue('365');
  await expect(page.locator('#calibration-end')).toHaveValue('1997-09-30');
  await expect(page.locator('#holdout-end')).toHaveValue('1998-06-30');
  await expect(page.locator('#sum-customers')).toHaveText('23,570');
  await expect(page.locator('#from-today')).toContainText('CLV is forecast from today');
  await expect(page.locator('#sum-label-revenue')).toHaveCount(0);
  await page.fill('#cutoff', '1997-03-31');
  await page.locator('#cutoff').dispatchEvent('change');
  await page.click('#compute');
  await expect(page.locator('#sum-customers')).toHaveText('23,570');
  await page.fill('#cutoff', '1997-01-31');
  await page.locator('#cutoff').dispatchEvent('change');
  await page.click('#compute');
  await expect(page.locator('#sum-customers')).not.toHaveText('23,570');
  await page.screenshot({ path: testInfo.outputPath('demo.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('summary export equals the CLI output format', async ({ page }) => {
  await loadDemo(page);
  await expect(page.locator('#sum-customers')).toHaveText('23,570');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-summary')]);
  expect(download.suggestedFilename()).toBe('summary_1998-06-30_week.csv');
  const text = await (await download.createReadStream()).toArray();
  const csv = Buffer.concat(text).toString('utf8');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe('user_id,frequency,recency,T,monetary_value');
  expect(lines.length).toBe(23_571);
});

test('a messy upload: mapping, then counted rejections with line numbers', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await page.goto('/');
  const messy = [
    'Client;Order Date;Revenue;Returned',
    'a;05.03.2024;"1.234,50";no',
    '',
    'a;06.03.2024;12,5;yes',
    'b;30.02.2024;3;no',
    'c;07.03.2024;NULL;no',
    'd;08.03.2024;abc;no',
    'a;06.03.2024;12,5;yes',
    'e;09.03.2024;7;maybe',
  ].join('\r\n') + '\r\n';
  await page.setInputFiles('#csv', { name: 'messy.csv', mimeType: 'text/csv', buffer: Buffer.from(messy) });
  await expect(page.locator('#mapping')).toBeVisible();
  await expect(page.locator('#map-user_id')).toHaveValue('0');
  await expect(page.locator('#map-timestamp')).toHaveValue('1');
  await expect(page.locator('#map-amount')).toHaveValue('2');
  await expect(page.locator('#map-is_refund')).toHaveValue('3');
  await page.click('#analyse');
  await expect(page.locator('#stat-rows')).toHaveText('7');
  await expect(page.locator('#stat-accepted')).toHaveText('2');
  await expect(page.locator('#stat-rejected')).toHaveText('4');
  await expect(page.locator('#stat-duplicates')).toHaveText('1');
  await expect(page.locator('#stat-revenue')).toHaveText('1,222.00');
  const row = (reason: string) => page.locator(`tr[data-reason="${reason}"]`);
  await expect(row('impossible_date')).toContainText('5');
  await expect(row('missing_amount')).toContainText('6');
  await expect(row('bad_amount')).toContainText('7');
  await expect(row('bad_refund_flag')).toContainText('9');
  await page.screenshot({ path: testInfo.outputPath('messy.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('a file without the needed columns gets a message a user can act on', async ({ page }) => {
  await page.goto('/');
  await page.setInputFiles('#csv', { name: 'x.csv', mimeType: 'text/csv', buffer: Buffer.from('name,qty\napple,1\n') });
  await page.click('#analyse');
  await expect(page.locator('#error')).toContainText('no user id');
  await expect(page.locator('#error')).toContainText('name, qty');
});

test('progress, and Cancel really stops the worker', async ({ page }, testInfo) => {
  // Big enough that an idle machine cannot read it before the test sees
  // progress and clicks Cancel (3M rows, 64 MB, finished in under a second).
  const path = testInfo.outputPath('big.csv');
  writeBigCsv(path, 12_000_000);
  await page.goto('/');
  await page.setInputFiles('#csv', path);
  await page.click('#analyse');
  await expect(page.locator('#progress-text')).toContainText('rows so far', { timeout: 10_000 });
  await expect(page.locator('#progress-text')).not.toContainText(' 0 rows so far', { timeout: 20_000 });
  await page.screenshot({ path: testInfo.outputPath('progress.png') });
  await page.click('#cancel');
  await expect(page.locator('#notice')).toContainText('Cancelled');
  await expect(page.locator('#progress')).toHaveCount(0);
  await expect(page.locator('#report')).toHaveCount(0);
  // A fresh worker serves the next request.
  await page.click('#demo');
  await expect(page.locator('#stat-rows')).toHaveText('69,659', { timeout: 60_000 });
});

test('the main thread stays responsive while a large file is parsed', async ({ page }, testInfo) => {
  const path = testInfo.outputPath('big.csv');
  writeBigCsv(path, 1_000_000);
  await page.goto('/');
  await page.setInputFiles('#csv', path);
  await expect(page.locator('#mapping')).toBeVisible();
  await page.evaluate(() => {
    (window as any).__long = [];
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) (window as any).__long.push(e.duration);
    }).observe({ type: 'longtask' });
  });
  await page.click('#analyse');
  await expect(page.locator('#stat-rows')).toHaveText('1,000,000', { timeout: 90_000 });
  const long: number[] = await page.evaluate(() => (window as any).__long);
  console.log(`long tasks during ingest (ms): ${JSON.stringify(long)}`);
  // Parsing these 1M rows takes ~250 ms of one thread in wasm: done on the main thread
  // it would show as one task that long (or many adding up). A lone 50–100 ms task
  // happens on a loaded 2-core VM without any parsing (57 ms seen once in CI), so the
  // bound is on the longest task and on the total blocking time (time beyond 50 ms).
  const blocking = long.reduce((sum, d) => sum + Math.max(0, d - 50), 0);
  expect(Math.max(0, ...long)).toBeLessThan(100);
  expect(blocking).toBeLessThan(100);
});

test('a file that mixes currencies: the page says where to give rates, and converts with them', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  const file = { name: 'fx.csv', mimeType: 'text/csv', buffer: Buffer.from('user_id,ts,amount,currency\na,2024-01-01,10,USD\na,2024-02-01,20,EUR\nb,2024-01-05,5,eur\n') };
  await page.setInputFiles('#csv', file);
  await expect(page.locator('#mapping')).toBeVisible();
  await page.click('#analyse');
  await expect(page.locator('#error')).toContainText('the file mixes currencies (EUR: 2 rows, USD: 1 rows)');
  await expect(page.locator('#error')).toContainText('the page: Currency rates, above Analyse');
  // A bad table is refused next to its control, before anything runs.
  await page.setInputFiles('#csv', file);
  await page.fill('#currency-rates', 'USD,1\nEUR,abc');
  await page.click('#analyse');
  await expect(page.locator('#rates-error')).toContainText('Currency rates: rates line 2');
  await expect(page.locator('#rates-error')).toHaveAttribute('role', 'alert');
  // With rates: 10 × 1 + (20 + 5) × 1.1, as `clv inspect --rates` gives.
  await page.fill('#currency-rates', 'currency,rate\nUSD,1\nEUR,1.1');
  await page.click('#analyse');
  await expect(page.locator('#stat-revenue')).toHaveText('37.50 USD', { timeout: 30_000 }); // the rate-1 currency
  expect(errors).toEqual([]);
});
