import { execFileSync } from 'child_process';
import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'fs';
import { expectSamePredictions, watchErrors } from './helpers';

// Everything the CLI takes, the page takes (issue 15): a summary file — one row per customer
// (frequency, recency, T) or the weighted discrete form (frequency, recency, periods, weights) —
// loads in place of transactions, is fitted as `clv fit` fits it, and the views that need dated
// purchases say so instead of staying blank.

const clv = (args: string[]) =>
  execFileSync('target/debug/clv', args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString();

async function loadSummary(page: Page, path: string, unit: string) {
  await page.goto('/');
  await page.setInputFiles('#csv', path);
  await expect(page.locator('#mapping h2')).toContainText('A customer summary');
  await page.selectOption('#summary-unit', unit);
  await page.click('#analyse');
}

async function cardParams(page: Page, model: string, path: string) {
  const button = page.locator(`.card-download[data-model="${model}"]`);
  await expect(button).toBeVisible({ timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  await download.saveAs(path);
  return JSON.parse(fs.readFileSync(path, 'utf8'));
}

async function axeClean(page: Page, state: string) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${state}: ${v.id} ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
  expect(bad, bad.join('\n')).toEqual([]);
  expect(result.passes.length).toBeGreaterThan(10);
}

test('a customer summary loads, fits as `clv fit` fits it, and the views that need dates say so', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const errors = watchErrors(page);
  const file = 'tests/data/cdnow_customers_summary.csv';
  await loadSummary(page, file, 'week');
  // The Data view: the file's customers as read (1,411 of CDNOW's 2,357 made no repeat purchase).
  await expect(page.locator('#sum-customers')).toHaveText('2,357', { timeout: 30_000 });
  await expect(page.locator('#sum-repeat')).toHaveText('946');
  await expect(page.locator('#summary-file-no-spend')).toBeVisible();
  await expect(page.locator('#repeat-histogram')).toBeVisible();
  // No cutoff to choose; the unit is the file's.
  await expect(page.locator('#bar-data')).toContainText('2,357 customers · a summary file');
  await expect(page.locator('#no-cutoff')).toBeVisible();
  await expect(page.locator('#cutoff')).toHaveCount(0);
  await expect(page.locator('#unit')).toBeDisabled();
  await expect(page.locator('#unit')).toHaveValue('week');
  await axeClean(page, 'summary file loaded');
  // The fit equals the CLI's on the same file.
  await page.selectOption('#horizon', '365');
  await page.click('#fit-models');
  const card = await cardParams(page, 'bgnbd', testInfo.outputPath('bgnbd.json'));
  expect(card.unit).toBe('week');
  const cli = JSON.parse(clv(['fit', '--input', file, '--model', 'bgnbd', '--json']));
  for (const k of ['r', 'alpha', 'a', 'b']) expect(Math.abs(card.params[k] / cli.params[k] - 1)).toBeLessThan(1e-7);
  // Published (Fader, Hardie & Lee 2005): r 0.243, α 4.414, a 0.793, b 2.426.
  expect(card.params.r).toBeCloseTo(0.2426, 3);
  expect(card.params.b).toBeCloseTo(2.4258, 2);
  // The predictions download is `clv predict` on the file (no spend model: a purchase is worth 1).
  await expect(page.locator('#kpi-customers')).toHaveText('2,357', { timeout: 60_000 });
  await page.selectOption('#table-model', 'pnbd');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-predictions-csv')]);
  const csv = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8');
  expectSamePredictions(csv, clv(['predict', '--input', file, '--unit', 'week', '--model', 'pnbd', '--horizon-days', '365', '--discount-rate', '0.1']));
  // A customer's drill-down: the numbers, and why there is no timeline.
  await page.locator('#customer-table .customer-open').first().click();
  await expect(page.locator('#customer-detail')).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('#customer-no-timeline')).toContainText('no purchase dates');
  await expect(page.locator('#customer-pmf')).toBeVisible();
  // What needs dated purchases says so, where the view is.
  await page.locator('.view-link[data-view="accuracy"]').click();
  await expect(page.locator('#holdout-needs-transactions')).toContainText('load the transactions themselves');
  await expect(page.locator('#holdout h2')).toBeFocused();
  await page.locator('.view-link[data-view="cohorts"]').click();
  await expect(page.locator('#cohorts-needs-transactions')).toBeVisible();
  await axeClean(page, 'summary file fitted');
  await page.setViewportSize({ width: 390, height: 900 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // Transactions loaded after it replace it: a cutoff again, the unit free.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#demo');
  await expect(page.locator('#sum-customers')).toHaveText('23,570', { timeout: 60_000 });
  await expect(page.locator('#cutoff')).toHaveValue('1998-06-30');
  await expect(page.locator('#unit')).toBeEnabled();
  await expect(page.locator('#holdout-needs-transactions')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the weighted, discrete-time form (the donations patterns) is fitted by BG/BB as the CLI does', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const file = 'tests/data/donations.csv';
  await loadSummary(page, file, 'month');
  await expect(page.locator('#sum-customers')).toHaveText('11,104', { timeout: 30_000 });
  await expect(page.locator('#sum-rows')).toHaveText('22');
  await expect(page.locator('#models .hint').first()).toContainText('Fits BG/BB');
  await expect(page.locator('#fit-ggomnbd')).toBeHidden();
  await page.click('#fit-models');
  const card = await cardParams(page, 'bgbb', testInfo.outputPath('bgbb.json'));
  const cli = JSON.parse(clv(['fit', '--input', file, '--model', 'bgbb', '--json']));
  // (The tab's libm and the machine's move where the optimizer stops in the 9th digit.)
  for (const k of ['alpha', 'beta', 'gamma', 'delta']) expect(Math.abs(card.params[k] / cli.params[k] - 1)).toBeLessThan(1e-7);
  // Published (Fader, Hardie & Shang 2010): α 1.204, β 0.750, γ 0.657, δ 2.783.
  expect(card.params.alpha).toBeCloseTo(1.204, 2);
  expect(card.params.delta).toBeCloseTo(2.783, 2);
  await expect(page.locator('#kpi-customers')).toHaveText('11,104', { timeout: 60_000 });
  await expect(page.locator('#customers-weighted')).toBeVisible();
  expect(errors).toEqual([]);
});

test('a histogram from the warehouse (clv sql --emit histogram) fits as its customers and exports one row per group', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const errors = watchErrors(page);
  // CDNOW at 1997-09-30 grouped by DuckDB: 1,016 rows standing for 2,357 customers.
  const file = 'tests/data/sql/cdnow_histogram.csv';
  await loadSummary(page, file, 'week');
  await expect(page.locator('#sum-rows')).toHaveText('1,016', { timeout: 30_000 });
  await expect(page.locator('#sum-customers')).toHaveText('2,357');
  await expect(page.locator('#sum-repeat')).toHaveText('946');
  await expect(page.locator('#summary-file-histogram')).toContainText('cannot give');
  await expect(page.locator('#summary-preview thead')).toContainText('customers (count)');
  await axeClean(page, 'histogram loaded');
  await page.selectOption('#horizon', '365');
  await page.click('#fit-models');
  const card = await cardParams(page, 'bgnbd', testInfo.outputPath('bgnbd.json'));
  // Published (Fader, Hardie & Lee 2005): r 0.243, α 4.414, a 0.793, b 2.426 — from 1,016 rows.
  const cli = JSON.parse(clv(['fit', '--input', file, '--model', 'bgnbd', '--json']));
  for (const k of ['r', 'alpha', 'a', 'b']) expect(Math.abs(card.params[k] / cli.params[k] - 1)).toBeLessThan(1e-7);
  expect(card.params.r).toBeCloseTo(0.2426, 3);
  // No spend model, and why, where the fits are.
  await expect(page.locator('#models')).toContainText("each customer's own mean spend", { timeout: 60_000 });
  await expect(page.locator('#models')).toContainText('2,357 customers (1,016 rows of identical customers)');
  // The Customers view lists groups, and says so; the totals count customers.
  await expect(page.locator('#kpi-customers')).toHaveText('2,357', { timeout: 60_000 });
  await expect(page.locator('#customers-histogram')).toBeVisible();
  await page.selectOption('#table-model', 'bgnbd');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-predictions-csv')]);
  expect(download.suggestedFilename()).toBe('predictions_per_group_bgnbd.csv');
  const csv = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8');
  const want = clv(['predict', '--input', file, '--unit', 'week', '--model', 'bgnbd', '--horizon-days', '365', '--discount-rate', '0.1']);
  const rows = (s: string) => s.trim().split('\n').map(l => l.split(','));
  // Every cell within 1e-7 (relative, or absolute below 1) of the CLI's; the worst one is named.
  const expectClose = (got: string[][], want: string[][]) => {
    expect(got[0]).toEqual(want[0]);
    expect(got.length).toBe(want.length);
    let worst = { d: 0, where: '' };
    for (let i = 1; i < got.length; i++) {
      for (let j = 0; j < got[i].length; j++) {
        const [a, b] = [Number(got[i][j]), Number(want[i][j])];
        const d = Math.abs(a - b) / Math.max(1, Math.abs(b));
        if (!(d <= worst.d)) worst = { d, where: `row ${i} ${want[0][j]}: ${a} vs ${b}` };
      }
    }
    expect(worst.d, worst.where).toBeLessThanOrEqual(1e-7);
  };
  const [got, expected] = [rows(csv), rows(want)];
  expect(got.length).toBe(1017);
  expectClose(got, expected);
  // Gamma–Gamma fitted on the spend histogram (`clv sql --emit spend`, no customer rows) and loaded
  // as a card: value in money, and the per-group download carries its terms as the CLI writes them.
  const ggCard = testInfo.outputPath('gg.json');
  fs.writeFileSync(ggCard, clv(['fit', '--model', 'gg', '--input', 'tests/data/sql/cdnow_spend.csv', '--json']));
  await page.locator('.view-link[data-view="fit"]').click();
  await page.setInputFiles('#model-cards', [ggCard]);
  await expect(page.locator('.fit.given[data-model="gg"]')).toContainText('15.3499', { timeout: 60_000 });
  await page.locator('.view-link[data-view="customers"]').click();
  await page.selectOption('#table-model', 'bgnbd');
  const [withSpend] = await Promise.all([page.waitForEvent('download'), page.click('#export-predictions-csv')]);
  const spendCsv = Buffer.concat(await (await withSpend.createReadStream()).toArray()).toString('utf8');
  const spendWant = clv(['predict', '--input', file, '--unit', 'week', '--model', 'bgnbd', '--model-card', ggCard,
    '--horizon-days', '365', '--discount-rate', '0.1']);
  const [gotSpend, wantSpend] = [rows(spendCsv), rows(spendWant)];
  expectClose(gotSpend, wantSpend);
  expect(new Set(gotSpend.slice(1).map(r => r[9])).size).toBe(1); // one population mean
  // The spend histogram itself is not data the page can fit alone: it says what it is for.
  await page.setInputFiles('#csv', 'tests/data/sql/cdnow_spend.csv');
  await expect(page.locator('#spend-histogram-note')).toContainText('clv fit --model gg');
  await page.setViewportSize({ width: 390, height: 900 });
  await page.locator('.view-link[data-view="data"]').click();
  await page.screenshot({ path: testInfo.outputPath('histogram-390.png'), fullPage: false });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  expect(errors).toEqual([]);
});
