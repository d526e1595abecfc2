import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { loadDemo, watchErrors } from './helpers';

// The tab survives its worker: a panic, an out-of-memory abort or a Cancel
// never loses the loaded data. `?test-hooks` installs window.__clvTest, whose
// crashNext(kind, how) makes the next request of that kind fail in the worker
// (see ARCHITECTURE.md, "The worker boundary").

const HOSTILE = 'tests/data/hostile';

/** What the worker logs when it fails on purpose (its panic hook, its abort). */
const EXPECTED = [/deliberate panic from the test hook/, /deliberate panic in a fit helper/, /memory allocation of \d+ bytes failed/, /unreachable/];

function unexpected(errors: string[]): string[] {
  return errors.filter(e => !EXPECTED.some(re => re.test(e)));
}

/** A small shop: 400 customers over two years whose rates and loyalty differ
 * (exponential rates, uniform drop-out chances), so every model fits, fast. */
function smallShop(): Buffer {
  let csv = 'customer,date,amount\n';
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let c = 0; c < 400; c++) {
    let day = Math.floor(rand() * 365);
    const rate = -Math.log(1 - rand()) * 0.03; // purchases a day
    const drop = rand() * 0.5;
    const spend = 10 + rand() * 50;
    while (day < 730) {
      const d = new Date(Date.UTC(2022, 0, 1) + day * 86400000).toISOString().slice(0, 10);
      csv += `c${c},${d},${(spend * (0.5 + rand())).toFixed(2)}\n`;
      if (rand() < drop) break;
      day += 1 + Math.floor(-Math.log(1 - rand()) / Math.max(rate, 1e-4));
    }
  }
  return Buffer.from(csv);
}

async function loadShop(page: Page, query = '') {
  await page.goto('/?test-hooks' + query);
  await page.setInputFiles('#csv', { name: 'shop.csv', mimeType: 'text/csv', buffer: smallShop() });
  await page.click('#analyse');
  await expect(page.locator('#sum-customers')).not.toHaveText('', { timeout: 20_000 });
}

async function crashNext(page: Page, kind: string, how: 'panic' | 'out_of_memory' | 'helper_panic' | 'helper_out_of_memory') {
  await page.evaluate(([k, h]) => (window as any).__clvTest.crashNext(k, h), [kind, how]);
}

async function fitConverges(page: Page) {
  await page.click('#fit-models');
  await expect(page.locator('.fit[data-model="bgnbd"] .badge')).toHaveText('converged', { timeout: 30_000 });
  await expect(page.locator('#models-work')).toHaveCount(0);
}

test('a worker panic while fitting: the data is reloaded, the results kept, every button works', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await loadShop(page);
  const rows = await page.locator('#stat-rows').textContent();
  const customers = await page.locator('#sum-customers').textContent();
  await crashNext(page, 'fit_models', 'panic');
  await page.click('#fit-models');
  const note = page.locator('#outage-models');
  await expect(note).toContainText('Fitting the models failed in the worker: ');
  await expect(note).toContainText('a deliberate panic from the test hook');
  await expect(note).toContainText('Your data was reloaded; the other results are kept.', { timeout: 20_000 });
  await expect(note).toHaveClass(/error/);
  await page.screenshot({ path: testInfo.outputPath('panic.png'), fullPage: true });
  // What was shown stays; nothing says "no data loaded".
  await expect(page.locator('#stat-rows')).toHaveText(rows!);
  await expect(page.locator('#sum-customers')).toHaveText(customers!);
  await expect(page.locator('#error, .panel-error')).toHaveCount(0);
  // The same buttons work without dropping the file again.
  await page.click('#compute');
  await expect(page.locator('#sum-customers')).toHaveText(customers!);
  await fitConverges(page);
  await expect(note).toHaveCount(0);
  await expect(page.locator('#customer-table tbody tr').first()).toBeVisible();
  await expect(page.locator('#error, .panel-error')).toHaveCount(0);
  expect(unexpected(errors)).toEqual([]);
});

for (const how of ['helper_panic', 'helper_out_of_memory'] as const) {
  test(`a fit helper worker dies (${how}): the fit fails in words, the data is reloaded, the next fit works`, async ({ page }) => {
    const errors = watchErrors(page);
    await loadShop(page, '&threads=2');
    const customers = await page.locator('#sum-customers').textContent();
    await crashNext(page, 'fit_models', how);
    await page.click('#fit-models');
    const note = page.locator('#outage-models');
    // The first fit started is the longest: Pareto/NBD.
    await expect(note).toContainText('Fitting the models failed in the worker: fitting Pareto/NBD in a helper worker failed: ');
    if (how === 'helper_panic') await expect(note).toContainText('a deliberate panic in a fit helper');
    await expect(note).toContainText('Your data was reloaded; the other results are kept.', { timeout: 20_000 });
    await expect(page.locator('#sum-customers')).toHaveText(customers!);
    await fitConverges(page);
    await expect(note).toHaveCount(0);
    await expect(page.locator('#error, .panel-error')).toHaveCount(0);
    expect(unexpected(errors)).toEqual([]);
  });
}

test('out of memory while building cohorts: the data, the users file and the fitted models come back', async ({ page }) => {
  const errors = watchErrors(page);
  await loadShop(page);
  let users = 'user_id,signup_ts,tier\n';
  for (let c = 0; c < 400; c++) users += `c${c},,${c % 3 ? 'basic' : 'plus'}\n`;
  await page.setInputFiles('#users-file', { name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(users) });
  await expect(page.locator('#users-summary')).toContainText('400 users');
  await fitConverges(page);
  await page.click('#next-page');
  await expect(page.locator('#page-info')).toContainText('page 2 of');
  await crashNext(page, 'cohorts', 'out_of_memory');
  await page.click('#build-cohorts');
  const note = page.locator('#outage-cohorts');
  await expect(note).toContainText('Building the cohorts failed in the worker: it stopped');
  await expect(note).toContainText('most likely out of memory');
  await expect(note).toContainText('Your data was reloaded; the other results are kept.', { timeout: 30_000 });
  // The fits shown before stay, and the fresh worker has them again: the
  // customer table pages, the cohorts build.
  await expect(page.locator('.fit[data-model="bgnbd"] .badge')).toHaveText('converged');
  await page.click('#next-page');
  await expect(page.locator('#page-info')).toContainText('page 2 of');
  await page.selectOption('#cohort-segment', 'tier'); // a column of the users file
  await page.click('#build-cohorts');
  await expect(page.locator('#cohorts-work')).toHaveCount(0, { timeout: 30_000 });
  await expect(page.locator('#cohort-clv tbody tr.segment').first()).toBeVisible();
  await expect(page.locator('#error, .panel-error')).toHaveCount(0);
  expect(unexpected(errors)).toEqual([]);
});

test('Cancel of a fit keeps the data: it is reloaded into the fresh worker', async ({ page }) => {
  const errors = watchErrors(page);
  // The demo (23,570 customers): its fits take seconds in the tab, so Cancel
  // lands while they run (the 400-customer shop's fit could end before the click).
  await loadDemo(page);
  await expect(page.locator('#sum-customers')).toHaveText('23,570');
  await page.click('#fit-models');
  await page.click('#models-cancel');
  const note = page.locator('#outage-models');
  await expect(note).toContainText('Fitting the models was cancelled.');
  await expect(note).toContainText('Your data was reloaded', { timeout: 20_000 });
  await expect(note).toHaveClass(/notice/);
  await fitConverges(page);
  expect(unexpected(errors)).toEqual([]);
});

test('a reload that crashes too is not retried, says so, and the page still loads a file', async ({ page }) => {
  const errors = watchErrors(page);
  await loadShop(page);
  await crashNext(page, 'fit_models', 'panic');
  await crashNext(page, 'ingest', 'panic'); // the replay of the file
  await page.click('#fit-models');
  const note = page.locator('#outage-models');
  await expect(note).toContainText('Fitting the models failed in the worker');
  await expect(note).toContainText('Reloading your data crashed the worker too', { timeout: 20_000 });
  await expect(note).toContainText('load the file again to continue');
  await loadShop(page);
  await fitConverges(page);
  expect(unexpected(errors)).toEqual([]);
});

test('hostile small files: read, fitted where possible, explained in words, never a crash', async ({ page }) => {
  test.setTimeout(60_000);
  const errors = watchErrors(page);
  const files = fs.readdirSync(HOSTILE).filter(f => /^(ingest|bounds|models)-.*\.csv$/.test(f)).sort();
  expect(files.length).toBeGreaterThan(10);
  await page.goto('/');
  const seen: string[] = [];
  for (const f of files) {
    await page.setInputFiles('#csv', path.join(HOSTILE, f));
    // Either a proposed mapping, or a message saying why the file cannot be read.
    await expect(page.locator('#mapping, #error').first()).toBeVisible();
    let fit = false;
    if (await page.locator('#mapping').count()) {
      await page.click('#analyse');
      await expect(page.locator('#report, #error').first()).toBeVisible({ timeout: 10_000 });
      if (!(await page.locator('#error').count()) && (await page.locator('#summary').count())) {
        await expect(page.locator('#summary-stats, #summary-error, #error').first()).toBeVisible({ timeout: 10_000 });
        fit = await page.locator('#fit-models').isVisible();
      }
    }
    let outcome = (await page.locator('#error').count()) ? `error: ${await page.locator('#error').textContent()}` : 'read';
    if (fit) {
      await page.click('#fit-models');
      await expect(page.locator('#models-work')).toHaveCount(0, { timeout: 20_000 });
      const badges = await page.locator('.fit .badge').allTextContents();
      const said = await page.locator('#models .warning, #models-error, #error').allTextContents();
      outcome += `; fit: ${badges.join('/') || 'none'}${said.length ? ` (${said.join(' | ').slice(0, 200)})` : ''}`;
      // Every count model has its card: numbers, or words saying why not.
      await expect(page.locator('.fit[data-model="bgnbd"], #models-error, #error').first()).toBeVisible();
      for (const card of await page.locator('.fit.failed').all()) {
        await expect(card.locator('.warning')).toContainText('Not a result: ');
      }
      if (f === 'models-nobody-leaves.csv') {
        // At the boundary the simpler model the data do identify is fitted and shown.
        for (const m of ['bgnbd', 'pnbd', 'mbgnbd']) {
          const limit = page.locator(`.fit[data-model="${m}"] .limiting`);
          await expect(limit.locator('h4'), m).toContainText('the simpler model, fitted');
          await expect(limit.locator('td').first(), m).toHaveText('r');
        }
      }
    }
    seen.push(`${f}: ${outcome}`);
    // Never a crash: no worker outage, no page panic.
    await expect(page.locator('.outage'), f).toHaveCount(0);
    await expect(page.locator('#fatal'), f).toBeEmpty();
  }
  console.log(seen.join('\n'));
  expect(errors).toEqual([]);
});
