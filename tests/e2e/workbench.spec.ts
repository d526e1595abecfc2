import { execFileSync } from 'child_process';
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import { APRIL, loadDemo, watchErrors } from './helpers';

// The workbench (issue 15): one settings bar for every view, views reachable from it,
// the URL holding the settings and the view (never the data), stale results said.

test('the URL holds the view and the settings; a link restores them and asks for the file again', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/#/fit?cutoff=1997-09-30&horizon=180&unit=week&discount=5');
  // No data travels with a link: the page asks for the file, the settings wait for it.
  await expect(page.locator('#demo')).toBeVisible();
  await page.click('#demo');
  await expect(page.locator('#sum-customers')).toHaveText('23,570', { timeout: 60_000 });
  await expect(page.locator('#cutoff')).toHaveValue('1997-09-30');
  await expect(page.locator('#horizon')).toHaveValue('180');
  await expect(page.locator('#discount')).toHaveValue('5');
  await expect(page.locator('.view-link[data-view="fit"]')).toHaveAttribute('aria-current', 'true');
  await expect(page.locator('#models h2')).toBeFocused();
  // Settings and views chosen here are written back to the URL.
  await page.selectOption('#unit', 'month');
  await page.locator('.view-link[data-view="accuracy"]').click();
  await expect(page.locator('#holdout h2')).toBeFocused();
  await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/accuracy?cutoff=1997-09-30&horizon=180&unit=month&discount=5&calibration=1998-01-01&holdout_end=1998-06-30');
  expect(errors).toEqual([]);
});

test('a link whose cutoff the data do not reach is said, and a cutoff inside the data is used', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/#/data?cutoff=2030-01-01');
  await page.click('#demo');
  await expect(page.locator('#sum-customers')).not.toHaveText('', { timeout: 60_000 });
  await expect(page.locator('#notice')).toContainText("The link's cutoff is outside this file's dates (1997-01-01 to 1998-06-30): the default is used instead.");
  await expect(page.locator('#cutoff')).toHaveValue('1998-06-30');
  expect(errors).toEqual([]);
});

test('fits made with other settings than the bar shows are marked stale, with a way to recompute', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page, APRIL);
  await page.click('#fit-models');
  await expect(page.locator('#models-summary')).toContainText('Predictions over the next 12.86 weeks', { timeout: 60_000 });
  await expect(page.locator('#models-stale')).toHaveCount(0);
  await page.selectOption('#horizon', '365');
  await expect(page.locator('#models-stale')).toContainText('These results are for cutoff 1998-04-01, horizon 90 days');
  await page.locator('#models-stale button').click();
  await expect(page.locator('#models-summary')).toContainText('Predictions over the next 52.14 weeks', { timeout: 60_000 });
  await expect(page.locator('#models-stale')).toHaveCount(0);
  // The discount rate is a setting of the bar too.
  await page.fill('#discount', '20');
  await page.locator('#discount').dispatchEvent('change');
  await expect(page.locator('#models-stale')).toContainText('discount rate 10% a year');
  expect(errors).toEqual([]);
});

test('390 px wide: no view makes the page scroll sideways (tables scroll inside their containers)', async ({ page }) => {
  const errors = watchErrors(page);
  await page.setViewportSize({ width: 390, height: 900 });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await loadDemo(page);
  await expect(page.locator('#sum-customers')).toHaveText('23,570');
  expect(await overflow()).toBe(0);
  await page.click('#fit-models');
  await expect(page.locator('.fit[data-model="pnbd"] .badge')).toHaveText('converged', { timeout: 60_000 });
  await expect(page.locator('#customer-table tbody tr').first()).toBeVisible();
  expect(await overflow()).toBe(0);
  await page.locator('#customer-table .customer-open').first().click();
  await page.locator('#customer-pmf details summary').click();
  await expect(page.locator('#customer-pmf-table')).toBeVisible();
  expect(await overflow()).toBe(0);
  await page.click('#evaluate');
  await expect(page.locator('#holdout-table')).toBeVisible({ timeout: 60_000 });
  expect(await overflow()).toBe(0);
  await page.click('#build-cohorts');
  await expect(page.locator('#retention-projection')).toBeVisible({ timeout: 60_000 });
  expect(await overflow()).toBe(0);
  expect(errors).toEqual([]);
});

test('Fit & compare ranks the models by BIC, says which is best and why, and adds the holdout log score', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await page.click('#fit-models');
  const rows = page.locator('#leaderboard tbody tr');
  await expect(rows).toHaveCount(3, { timeout: 60_000 });
  await expect(rows.first()).toContainText('best on your data');
  await expect(page.locator('#leaderboard-verdict')).toContainText('has the lowest BIC');
  const num = async (r: number, c: number) => Number((await rows.nth(r).locator('td').nth(c).textContent())!.replace(/,/g, ''));
  let last = -Infinity;
  for (let r = 0; r < 3; r++) {
    const [k, ll, aic, bic] = [await num(r, 2), await num(r, 3), await num(r, 4), await num(r, 5)];
    // AIC = 2k − 2 ln L and BIC = k ln n − 2 ln L with n = 23,570 customers (to the 2 decimals shown).
    expect(Math.abs(aic - (2 * k - 2 * ll))).toBeLessThan(0.03);
    expect(Math.abs(bic - (k * Math.log(23570) - 2 * ll))).toBeLessThan(0.03);
    expect(bic).toBeGreaterThanOrEqual(last);
    last = bic;
  }
  expect(await num(0, 6)).toBe(0);
  await expect(rows.first().locator('td').nth(7)).toHaveText('—');
  await page.click('#evaluate');
  await expect(page.locator('#holdout-table')).toBeVisible({ timeout: 60_000 });
  await expect(rows.first().locator('td').nth(7)).toHaveText(/^-\d+\.\d{3}$/);
  expect(errors).toEqual([]);
});

test('Value & segments: the base\'s value, its concentration and the quadrants, each downloadable', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page, '#/data?horizon=365&discount=10');
  await page.click('#fit-models');
  await expect(page.locator('#kpi-customers')).toHaveText('23,570', { timeout: 60_000 });
  // The total is the sum of the customers' CLV in the predictions download of the same model.
  await page.selectOption('#value-model', 'pnbd');
  await page.selectOption('#table-model', 'pnbd');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-predictions-csv')]);
  const lines = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8').trim().split('\n');
  const col = lines[0].split(',').indexOf('clv');
  const total = lines.slice(1).reduce((s, l) => s + Number(l.split(',')[col]), 0);
  const shown = Number((await page.locator('#kpi-total').textContent())!.replace(/,/g, ''));
  expect(Math.abs(shown - total)).toBeLessThan(0.006);
  // Its 95% range from the fits' parameter uncertainty equals `clv predict --total` at the same settings.
  const cli = JSON.parse(execFileSync('target/debug/clv', ['predict', '--input', 'www/demo/cdnow.csv', '--cutoff', '1998-06-30',
    '--horizon-days', '365', '--discount-rate', '0.1', '--model', 'pnbd', '--spend-model', 'gg', '--total', '--format', 'json'],
  { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  // (Pareto/NBD's Hessian is by finite differences of a numerical gradient: the tab's libm and the
  // machine's differ in the last digits, which that leaves at ~1e-6 of the range's ends.)
  const range = (await page.locator('#kpi-total-range').textContent())!;
  const ends = range.match(/^95% range ([\d,.]+) to ([\d,.]+) \?$/)!.slice(1).map(x => Number(x.replace(/,/g, '')));
  expect(Math.abs(ends[0] / cli.interval.low - 1)).toBeLessThan(1e-5);
  expect(Math.abs(ends[1] / cli.interval.high - 1)).toBeLessThan(1e-5);
  expect(Math.abs(cli.total_clv - total)).toBeLessThan(0.006);
  expect(cli.interval.high / cli.interval.low).toBeLessThan(1.1);
  await expect(page.locator('#kpi-top-decile')).toHaveText(/^\d+\.\d%$/);
  // Quadrants: four groups whose customers add up to all of them.
  const counts = await page.locator('#quadrants tbody tr td:nth-child(2)').allTextContents();
  expect(counts.length).toBe(4);
  expect(counts.reduce((s, c) => s + Number(c.replace(/,/g, '')), 0)).toBe(23570);
  const [q] = await Promise.all([page.waitForEvent('download'), page.locator('#quadrants tr[data-quadrant="At risk"] .quadrant-export').click()]);
  expect(q.suggestedFilename()).toBe('predictions_pnbd_at_risk.csv');
  const atRisk = Buffer.concat(await (await q.createReadStream()).toArray()).toString('utf8').trim().split('\n').length - 1;
  await expect(page.locator('#quadrants tr[data-quadrant="At risk"] td').nth(1)).toHaveText(atRisk.toLocaleString('en-US'));
  await expect(page.locator('#lorenz-chart')).toBeVisible();
  await expect(page.locator('#value-histogram rect').first()).toBeAttached();
  expect(errors).toEqual([]);
});

test('table headers say their unit and horizon and which way they sort; leaving during a fit asks first', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await page.click('#fit-models');
  const clv = page.locator('#customer-table th[aria-sort="descending"]');
  await expect(clv).toContainText('CLV, next 52.1 weeks', { timeout: 60_000 });
  await expect(page.locator('#customer-table th[aria-sort="none"]').filter({ hasText: 'recency (weeks)' })).toHaveCount(1);
  await page.locator('#customer-table th button', { hasText: 'recency' }).click();
  await expect(page.locator('#customer-table th[aria-sort="descending"]')).toContainText('recency (weeks)');
  // A long fit is running: closing the tab asks first.
  await page.check('#fit-ggomnbd');
  await page.click('#fit-models');
  await expect(page.locator('#models-work')).toBeVisible();
  const dialog = new Promise<string>(resolve => page.once('dialog', d => { resolve(d.type()); d.accept(); }));
  await page.close({ runBeforeUnload: true });
  expect(await dialog).toBe('beforeunload');
  expect(errors).toEqual([]);
});

test('Data: purchases and new customers per week with the cutoff, the split, and customers by repeat purchases', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await expect(page.locator('#weekly-chart')).toBeVisible();
  await expect(page.locator('#weekly-chart .marker')).toHaveCount(1);
  await expect(page.locator('#split-timeline')).toContainText('cutoff 1998-06-30');
  await expect(page.locator('#split-timeline')).toContainText('calibration ends 1997-09-30');
  await expect(page.locator('#split-timeline')).toContainText('holdout ends 1998-06-30');
  await expect(page.locator('#split-timeline svg')).toHaveAttribute('aria-label', /looks 365 days ahead, past the end of the data/);
  // Every customer of the file is new in exactly one week (the table behind the chart).
  await page.locator('#weekly-chart details summary').click();
  await expect(page.locator('#weekly-chart-table tbody tr').first()).toBeVisible(); // built when opened
  const newPerWeek = await page.locator('#weekly-chart-table tbody tr td:nth-child(3)').allTextContents();
  expect(newPerWeek.reduce((s, c) => s + Number(c.replace(/,/g, '')), 0)).toBe(23570);
  // The histogram's bars add up to the customers at the cutoff.
  const titles = await page.locator('#repeat-histogram rect title').allTextContents();
  expect(titles.length).toBe(11);
  const atCutoff = Number((await page.locator('#sum-customers').textContent())!.replace(/,/g, ''));
  expect(titles.reduce((s, t) => s + Number(t.split(': ')[1]), 0)).toBe(atCutoff);
  // Every chart has a title, its data as a table and SVG/PNG downloads.
  const charts = page.locator('figure.chart');
  expect(await charts.count()).toBeGreaterThanOrEqual(3);
  await expect(page.locator('figure.chart:not(:has(.chart-tools))')).toHaveCount(0);
  await expect(page.locator('#weekly-chart svg title')).toHaveText('Purchases and new customers per week');
  const [svg] = await Promise.all([page.waitForEvent('download'), page.locator('#weekly-chart .chart-svg').click()]);
  expect(svg.suggestedFilename()).toBe('purchases-and-new-customers-per-week.svg');
  const svgText = Buffer.concat(await (await svg.createReadStream()).toArray()).toString('utf8');
  expect(svgText).toMatch(/^<\?xml/);
  expect(svgText).toContain('Purchases and new customers per week</text>');
  expect(svgText).toContain('new customers</text>'); // the legend travels with it
  expect((svgText.match(/<path [^>]*class="line"/g) ?? []).length).toBe(2);
  const [png] = await Promise.all([page.waitForEvent('download'), page.locator('#weekly-chart .chart-png').click()]);
  expect(png.suggestedFilename()).toBe('purchases-and-new-customers-per-week.png');
  const pngBytes = Buffer.concat(await (await png.createReadStream()).toArray());
  expect(pngBytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(pngBytes.readUInt32BE(16)).toBe(1280); // drawn at twice the chart's 640 units
  expect(errors).toEqual([]);
});

test('the customer table filters by P(alive) and CLV in the worker', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await page.click('#fit-models');
  await expect(page.locator('#page-info')).toContainText('23,570 of 23,570 customers', { timeout: 60_000 });
  await page.fill('#filter-p-alive', '0.5');
  await page.locator('#filter-p-alive').dispatchEvent('change');
  await page.fill('#filter-clv', '20');
  await page.locator('#filter-clv').dispatchEvent('change');
  await expect(page.locator('#page-info')).not.toContainText('23,570 of 23,570');
  const info = (await page.locator('#page-info').textContent())!;
  const kept = Number(info.match(/· ([\d,]+) of/)![1].replace(/,/g, ''));
  expect(kept).toBeGreaterThan(0);
  const rows = page.locator('#customer-table tbody tr');
  for (let i = 0; i < await rows.count(); i++) {
    const cells = rows.nth(i).locator('td');
    expect(Number(await cells.nth(4).textContent())).toBeGreaterThanOrEqual(0.5);
    expect(Number((await cells.nth(7).textContent())!.replace(/,/g, ''))).toBeGreaterThanOrEqual(20);
  }
  expect(errors).toEqual([]);
});

test('a glossary is reachable from the terms: a link moves focus to the entry and keeps the URL', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await expect(page.locator('#glossary dt')).toHaveCount(29);
  const hash = await page.evaluate(() => location.hash);
  await page.locator('#summary-preview th a.term', { hasText: 'T (weeks)' }).click();
  await expect(page.locator('#glossary-t')).toBeFocused();
  await expect(page.locator('#glossary-t + dd')).toContainText("age at the cutoff");
  expect(await page.evaluate(() => location.hash)).toBe(hash);
  // Beside a control: a "?" with a name that says what it explains, by keyboard.
  const help = page.locator('#settings-bar a.term.help[aria-label="What is cutoff?"]');
  await help.focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#glossary-cutoff')).toBeFocused();
  // After a fit, the table's and the leaderboard's terms link too.
  await page.click('#fit-models');
  await expect(page.locator('#customer-table a.term.help[aria-label="What is P(alive)?"]')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.locator('#leaderboard a.term', { hasText: 'BIC' }).first()).toHaveAttribute('href', '#glossary-bic');
  expect(errors).toEqual([]);
});

test('Value & segments splits the base by a users-file column, and a segment\'s customers open in the table', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const path = testInfo.outputPath('users.csv');
  let csv = 'user_id,channel\n';
  for (let i = 1; i <= 23570; i++) csv += `${String(i).padStart(5, '0')},${i % 2 ? 'ads' : 'organic'}\n`;
  fs.writeFileSync(path, csv);
  await loadDemo(page);
  await page.click('#fit-models');
  await expect(page.locator('#kpi-customers')).toHaveText('23,570', { timeout: 60_000 });
  // A users file loaded after the fit offers its columns.
  await page.setInputFiles('#users-file', path);
  await expect(page.locator('#value-segment option[value="channel"]')).toHaveCount(1, { timeout: 30_000 });
  await page.selectOption('#value-segment', 'channel');
  const rows = page.locator('#segment-table tbody tr');
  await expect(rows).toHaveCount(2, { timeout: 30_000 });
  const num = async (loc: ReturnType<Page['locator']>) => Number((await loc.textContent())!.replace(/,/g, ''));
  expect((await num(rows.nth(0).locator('td').nth(0))) + (await num(rows.nth(1).locator('td').nth(0)))).toBe(23570);
  const total = (await num(rows.nth(0).locator('td').nth(2))) + (await num(rows.nth(1).locator('td').nth(2)));
  expect(Math.abs(total - (await num(page.locator('#kpi-total'))))).toBeLessThan(0.02);
  await expect(page.locator('#segment-bars rect')).toHaveCount(2);
  // Its customers in the table: 11,785 with odd ids.
  await page.locator('#segment-table tr[data-segment="ads"] .show-segment').click();
  await expect(page.locator('#segment-filter')).toContainText('Only customers with channel = ads');
  await expect(page.locator('#page-info')).toContainText('11,785 of 23,570 customers');
  const ids = await page.locator('#customer-table .customer-open').allTextContents();
  expect(ids.every(id => Number(id) % 2 === 1)).toBe(true);
  await page.click('#clear-segment');
  await expect(page.locator('#page-info')).toContainText('23,570 of 23,570 customers');
  expect(errors).toEqual([]);
});

test('by keyboard: after a fit or an evaluation, focus moves to the result', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await page.locator('#fit-models').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#models-summary')).toBeFocused({ timeout: 60_000 });
  await page.locator('#evaluate').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#holdout-summary')).toBeFocused({ timeout: 90_000 });
  expect(errors).toEqual([]);
});
