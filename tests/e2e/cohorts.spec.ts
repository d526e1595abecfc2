import { test, expect } from '@playwright/test';
import * as fs from 'fs';
import { APRIL, loadDemo, watchErrors } from './helpers';

// Written by `./dev test` before Playwright runs: `clv cohorts` on the demo file.
const EXPECTED = 'target/e2e-expected/cohorts_month_90.csv';

test('cohorts: retention matrix, values per cohort, export equal to the CLI', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await loadDemo(page, APRIL);
  // By default Cohorts share the Summary's cutoff; all the data is asked for here.
  await expect(page.locator('#cohort-cutoff')).toHaveValue('1998-04-01');
  await page.fill('#cohort-cutoff', '1998-06-30');
  await page.locator('#cohort-cutoff').dispatchEvent('change');
  await expect(page.locator('#cohort-cutoff-note')).toContainText('data up to 1998-06-30, not the cutoff 1998-04-01');
  await page.click('#build-cohorts');
  await expect(page.locator('#cohort-clv tbody tr')).toHaveCount(3, { timeout: 60_000 });
  await expect(page.locator('#cohort-summary')).toContainText('3 cohorts');
  await expect(page.locator('#retention-matrix tbody tr')).toHaveCount(3);
  // Month 0: everyone bought (that is how they joined).
  await expect(page.locator('#retention-matrix tbody tr').first().locator('td').nth(2)).toHaveText('100%');
  await expect(page.locator('#cohort-clv tbody tr[data-method="observed"]')).toHaveCount(3);
  await expect(page.locator('#cumulative-chart path.line')).toHaveCount(3);
  await expect(page.locator('#daily-forecast path.band')).toHaveCount(1);
  await expect(page.locator('#backtest-table tbody tr')).toHaveCount(4);
  await expect(page.locator('#backtest-table tbody tr[data-method="seasonal-naive"]')).toBeVisible();

  expect(fs.existsSync(EXPECTED), `${EXPECTED} is written by ./dev test`).toBe(true);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-cohort-clv')]);
  expect(download.suggestedFilename()).toBe('cohort_clv_month_90d_1998-06-30.csv');
  const ours = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8');
  expect(ours).toBe(fs.readFileSync(EXPECTED, 'utf8'));
  await page.screenshot({ path: testInfo.outputPath('cohorts.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('young weekly cohorts are forecast, and the method is said', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await page.selectOption('#cohort-grain', 'week');
  await page.selectOption('#cohort-age-unit', 'week');
  await page.fill('#cohort-cutoff', '1997-03-15');
  await page.locator('#cohort-cutoff').dispatchEvent('change');
  await page.click('#build-cohorts');
  await expect(page.locator('#cohort-clv tbody tr')).toHaveCount(11, { timeout: 60_000 });
  await expect(page.locator('#cohort-clv tbody tr[data-method="observed"]')).toHaveCount(0);
  expect(await page.locator('#cohort-clv tbody tr[data-method="damped-holt-winters"]').count()).toBeGreaterThan(0);
  expect(await page.locator('#cohort-clv tbody tr[data-method="pooled"]').count()).toBeGreaterThan(0);
  await expect(page.locator('#cohort-clv tbody tr[data-method="pooled"]').first()).toContainText('too few or too sparse');
  expect(errors).toEqual([]);
});

test('a users file adds segments; segments add up to their cohort', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  // Users 00001–23570: a channel by id parity, one bad signup date, one user with no purchase.
  const path = testInfo.outputPath('users.csv');
  let csv = 'user_id,signup_ts,channel\n';
  for (let i = 1; i <= 23570; i++) csv += `${String(i).padStart(5, '0')},,${i % 2 ? 'ads' : 'organic'}\n`;
  csv += 'zz-1,1997-02-30,ads\nzz-2,1997-02-03,organic\n';
  fs.writeFileSync(path, csv);
  await loadDemo(page);
  await page.setInputFiles('#users-file', path);
  await expect(page.locator('#users-summary')).toContainText('23,571 users, 1 with a signup date; attributes: channel. 1 rows skipped (line 23572: signup date: impossible date (1997-02-30))');
  await page.selectOption('#cohort-segment', 'channel');
  await page.click('#build-cohorts');
  // 3 monthly cohorts × (all, ads, organic)
  await expect(page.locator('#cohort-clv tbody tr')).toHaveCount(9, { timeout: 60_000 });
  await expect(page.locator('#cohort-clv tbody tr.segment')).toHaveCount(6);
  // zz-2 signed up in February and never bought: one more February user, no revenue.
  const users = async (row: number) => Number((await page.locator('#cohort-clv tbody tr').nth(row).locator('td').nth(2).textContent())!.replace(/,/g, ''));
  expect(await users(3)).toBe(8477);
  expect((await users(4)) + (await users(5))).toBe(8477);
  expect(errors).toEqual([]);
});

test('each cohort\'s retention is extrapolated by sBG: a subscription cohort gives Fader & Hardie\'s estimates', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  // Members pay every 31 days from 2001-01-01 until they leave; payers per month are the
  // paper's regular cohort (1000, 631, …, 241), whose sBG estimates are α 0.704, β 1.182.
  const paying = [1000, 631, 468, 382, 326, 289, 262, 241];
  const dates = ['2001-01-01', '2001-02-01', '2001-03-04', '2001-04-04', '2001-05-05', '2001-06-05', '2001-07-06', '2001-08-06'];
  let csv = 'user_id,date,amount\n';
  for (let i = 0; i < 1000; i++) for (let k = 0; k < 8 && i < paying[k]; k++) csv += `u${i},${dates[k]},9.99\n`;
  const path = testInfo.outputPath('subscriptions.csv');
  fs.writeFileSync(path, csv);
  await page.goto('/');
  await page.setInputFiles('#csv', path);
  await page.click('#analyse');
  await expect(page.locator('#sum-customers')).not.toHaveText('', { timeout: 30_000 });
  await page.fill('#cohort-cutoff', '2001-09-05');
  await page.locator('#cohort-cutoff').dispatchEvent('change');
  await page.selectOption('#cohort-horizon', '365');
  await page.click('#build-cohorts');
  const row = page.locator('#retention-projection tbody tr').first();
  await expect(row).toContainText('2001-01', { timeout: 60_000 });
  const cells = row.locator('td');
  await expect(cells.nth(2)).toHaveText('7');      // months observed after joining
  await expect(cells.nth(3)).toHaveText('24%');    // 241 of 1000 still paying
  await expect(cells.nth(4)).toHaveText('0.704');  // γ = the paper's α
  await expect(cells.nth(5)).toHaveText('1.182');  // δ = the paper's β
  await expect(page.locator('#retention-chart')).toBeVisible();
  await expect(page.locator('#retention-chart .legend')).toContainText('2001-01 sBG');
  await page.locator('#cohorts').screenshot({ path: testInfo.outputPath('retention.png') });
  expect(errors).toEqual([]);
});
