import { test, expect, Page } from '@playwright/test';
import { APRIL, loadDemo, watchErrors } from './helpers';

// One state behind every panel: the horizon, the cutoff and the summary
// figures are the same wherever they are shown or exported (issue 13).

/** Σ label_y of the features CSV the page offers. */
async function featuresLabelTotal(page: Page): Promise<number> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-features')]);
  const text = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8');
  const lines = text.trim().split('\n');
  const col = lines[0].split(',').indexOf('label_y');
  return lines.slice(1).reduce((s, l) => s + Number(l.split(',')[col]), 0);
}

async function shownLabelRevenue(page: Page): Promise<number> {
  const text = await page.locator('.stat:has(.label:text-matches("^Revenue in next")) .value').first().textContent();
  return Number((text ?? '').replace(/,/g, ''));
}

test('the horizon chosen in Cohorts is the one the Summary shows and uses', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page, APRIL);
  await page.selectOption('#cohort-horizon', '365');
  await expect(page.locator('#horizon')).toHaveValue('365');
  // The figures follow the setting they are shown with.
  await expect(page.locator('.stat .label', { hasText: 'Revenue in next 365 days' }).first()).toBeVisible();
  const shown = await shownLabelRevenue(page);
  expect(Math.abs(shown - (await featuresLabelTotal(page)))).toBeLessThan(0.006);
  expect(errors).toEqual([]);
});

test('revenue in the next N days is the sum of label_y of the features export', async ({ page }, testInfo) => {
  // Two customers known at the cutoff, one who first buys after it: the label
  // is about the customers at the cutoff; the newcomer's revenue is said apart.
  const path = testInfo.outputPath('small.csv');
  require('fs').writeFileSync(path, 'user_id,ts,amount\na,2024-01-02,10\na,2024-03-05,7.5\nb,2024-01-20,4\nb,2024-03-20,2\nc,2024-03-10,100\n');
  const errors = watchErrors(page);
  await page.goto('/');
  await page.setInputFiles('#csv', path);
  await page.click('#analyse');
  await page.fill('#cutoff', '2024-02-01');
  await page.locator('#cutoff').dispatchEvent('change');
  await page.click('#compute');
  await expect(page.locator('#sum-customers')).toHaveText('2');
  expect(await shownLabelRevenue(page)).toBeCloseTo(9.5, 6);
  expect(await featuresLabelTotal(page)).toBeCloseTo(9.5, 6);
  await expect(page.locator('#sum-new-revenue')).toHaveText('100.00');
  expect(errors).toEqual([]);
});

test('Cohorts uses the shared cutoff, so comparing with a fitted model works by default', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page, APRIL);
  await expect(page.locator('#cutoff')).toHaveValue('1998-04-01');
  await expect(page.locator('#cohort-cutoff')).toHaveValue('1998-04-01');
  await page.click('#fit-models');
  await expect(page.locator('.fit[data-model="bgnbd"] .badge')).toHaveText('converged', { timeout: 60_000 });
  await page.selectOption('#cohort-btyd', 'bgnbd');
  await page.click('#build-cohorts');
  await expect(page.locator('#cohort-clv thead')).toContainText('BG/NBD per user', { timeout: 60_000 });
  await expect(page.locator('#outage-cohorts, #cohorts .error')).toHaveCount(0);
  // Changing it in Cohorts is the user's choice, and the panel says so.
  await page.fill('#cohort-cutoff', '1998-06-30');
  await page.locator('#cohort-cutoff').dispatchEvent('change');
  await expect(page.locator('#cohort-cutoff-note')).toContainText('1998-04-01');
  await page.click('#cohort-cutoff-reset');
  await expect(page.locator('#cohort-cutoff')).toHaveValue('1998-04-01');
  expect(errors).toEqual([]);
});

test('a failed request is said next to its control and clears no other panel', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await page.click('#fit-models');
  await expect(page.locator('.fit[data-model="bgnbd"] .badge')).toHaveText('converged', { timeout: 60_000 });
  const customers = await page.locator('#sum-customers').textContent();
  // A holdout that ends before the calibration does: refused by the worker.
  await page.fill('#holdout-end', '1997-06-01');
  await page.locator('#holdout-end').dispatchEvent('change');
  await page.click('#evaluate');
  await expect(page.locator('#holdout-error')).toContainText('the holdout must end after the calibration period');
  await expect(page.locator('#holdout-error')).toHaveAttribute('role', 'alert');
  // Nothing else was cleared or marked failed.
  await expect(page.locator('#error, #summary-error, #models-error, #cohorts-error')).toHaveCount(0);
  await expect(page.locator('#sum-customers')).toHaveText(customers!);
  await expect(page.locator('.fit[data-model="bgnbd"] .badge')).toHaveText('converged');
  await expect(page.locator('#customer-table tbody tr')).toHaveCount(25);
  // The next request of that panel clears its error; the others keep their results.
  await page.fill('#holdout-end', '1998-06-30');
  await page.locator('#holdout-end').dispatchEvent('change');
  await page.click('#evaluate');
  await expect(page.locator('#holdout-error')).toHaveCount(0);
  await expect(page.locator('#holdout-table')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('.fit[data-model="bgnbd"] .badge')).toHaveText('converged');
  expect(errors).toEqual([]);
});

test('Cancel of a fit clears what the fit would have fed, and nothing else', async ({ page }) => {
  const errors = watchErrors(page);
  await loadDemo(page);
  await page.click('#fit-models');
  await expect(page.locator('#customer-table tbody tr')).toHaveCount(25, { timeout: 60_000 });
  const customers = await page.locator('#sum-customers').textContent();
  await page.click('#fit-models');
  await expect(page.locator('#models-work')).toBeVisible();
  await page.click('#models-cancel');
  await expect(page.locator('#outage-models')).toContainText('Fitting the models was cancelled.');
  // The old fits and the customer table came from the worker memory the new
  // fit replaced: gone, not shown as if current. The summary stays.
  await expect(page.locator('#models-work')).toHaveCount(0);
  await expect(page.locator('.fit')).toHaveCount(0);
  await expect(page.locator('#customers')).toHaveCount(0);
  await expect(page.locator('#sum-customers')).toHaveText(customers!);
  await expect(page.locator('#outage-models')).toContainText('Your data was reloaded', { timeout: 20_000 });
  await page.click('#fit-models');
  await expect(page.locator('#customer-table tbody tr')).toHaveCount(25, { timeout: 60_000 });
  expect(errors).toEqual([]);
});
