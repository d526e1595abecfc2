import { test, expect, Page, TestInfo } from '@playwright/test';
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import { watchErrors } from './helpers';

// What the peer packages compute, in the page too (issue 14).

/** The CDNOW sample transactions (2,357 customers) loaded, with the cutoff set. */
async function cdnowSampleAt(page: Page, cutoff: string) {
  await page.goto('/#/data?horizon=90');
  await page.setInputFiles('#csv', 'tests/data/cdnow_sample_transactions.csv');
  await page.click('#analyse');
  await expect(page.locator('#sum-customers')).toHaveText('2,357');
  await page.fill('#cutoff', cutoff);
  await page.locator('#cutoff').dispatchEvent('change');
}

/** Fader, Hardie & Lee's (2005) CDNOW BG/NBD as a model card file. */
function fhlCard(testInfo: TestInfo): string {
  const path = testInfo.outputPath('fhl.json');
  fs.writeFileSync(path, JSON.stringify({ model: 'bgnbd', unit: 'week', converged: true, params: { r: 0.242593, alpha: 4.413532, a: 0.792886, b: 2.425754 } }));
  return path;
}

test('a file of ids and dates fits the count models and says why spend and CLV are empty', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  // The demo data without its amount and quantity columns.
  const rows = fs.readFileSync('www/demo/cdnow.csv', 'utf8').trim().split('\n');
  const path = testInfo.outputPath('counts.csv');
  fs.writeFileSync(path, rows.map(r => r.split(',').slice(0, 2).join(',')).join('\n') + '\n');
  await page.goto('/');
  await page.setInputFiles('#csv', path);
  await page.click('#analyse');
  await expect(page.locator('#report')).toContainText('no amount column: purchases are counted only');
  await page.click('#fit-models');
  await expect(page.locator('.fit[data-model="pnbd"] .badge')).toHaveText('converged', { timeout: 60_000 });
  await expect(page.locator('#no-spend')).toContainText('Spend and CLV are not estimated');
  await expect(page.locator('#no-spend')).toContainText('without an amount column');
  // The table still ranks by purchases; money columns say nothing rather than a count dressed as money.
  const first = page.locator('#customer-table tbody tr').first();
  await expect(first.locator('td').nth(7)).toHaveText('—');
  expect(errors).toEqual([]);
});

test('predictions are over the exact horizon, and lifetimes-style discounting is a stated choice', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/#/data?horizon=90');
  await page.click('#demo');
  await expect(page.locator('#sum-customers')).toHaveText('23,570', { timeout: 60_000 });
  await page.click('#fit-models');
  await expect(page.locator('#models-summary')).toContainText('Predictions over the next 12.86 weeks', { timeout: 60_000 });
  await expect(page.locator('#models-summary')).toContainText('week by week');
  await page.selectOption('#discounting', 'lifetimes');
  await page.click('#fit-models');
  await expect(page.locator('#models-summary')).toContainText('3 whole months as the lifetimes package sums it', { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('a fit downloads as a model card that the CLI predicts with', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await page.click('#demo');
  await expect(page.locator('#sum-customers')).toHaveText('23,570', { timeout: 60_000 });
  await page.fill('#cutoff', '1997-09-30');
  await page.locator('#cutoff').dispatchEvent('change');
  await expect(page.locator('#sum-repeat')).not.toHaveText('');
  await page.click('#fit-models');
  const button = page.locator('.card-download[data-model="bgnbd"]');
  await expect(button).toBeVisible({ timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  expect(download.suggestedFilename()).toBe('model_card_bgnbd.json');
  const path = testInfo.outputPath('card.json');
  await download.saveAs(path);
  const card = JSON.parse(fs.readFileSync(path, 'utf8'));
  expect(card.model).toBe('bgnbd');
  expect(card.unit).toBe('week');
  expect(card.converged).toBe(true);
  expect(Object.keys(card.params).sort()).toEqual(['a', 'alpha', 'b', 'r']);
  // The same estimates as the CLI's fit of the same file and cutoff (the binary `./dev test` built).
  const clv = (args: string[]) => execFileSync('target/debug/clv', args, { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString();
  const base = ['--input', 'www/demo/cdnow.csv', '--cutoff', '1997-09-30'];
  const cli = JSON.parse(clv(['fit', ...base, '--model', 'bgnbd', '--json']));
  for (const k of ['r', 'alpha', 'a', 'b']) expect(Math.abs(card.params[k] / cli.params[k] - 1)).toBeLessThan(1e-9);
  // And the CLI predicts with the card as it is.
  const out = clv(['predict', ...base, '--model-card', path, '--horizon-days', '90']);
  expect(out.trim().split('\n').length).toBe(1 + 23570);
  expect(errors).toEqual([]);
});

test('saved model cards load in the tab and are used as given, as the CLI uses them', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await cdnowSampleAt(page, '1997-09-30');
  await expect(page.locator('#sum-repeat')).not.toHaveText('');
  // Fader, Hardie & Lee's (2005) CDNOW estimates and lifetimes' documented Gamma–Gamma, as cards.
  const write = (name: string, card: object) => {
    const path = testInfo.outputPath(name);
    fs.writeFileSync(path, JSON.stringify(card));
    return path;
  };
  const bgnbd = fhlCard(testInfo);
  const gg = write('gg.json', { model: 'gg', params: { p: 6.25, q: 3.74, gamma: 15.44 } });
  // A file that is not a card is refused next to the control, and nothing runs.
  await page.setInputFiles('#model-cards', [write('notes.json', { hello: 1 })]);
  await expect(page.locator('#model-cards-error')).toContainText('notes.json: not a model card');
  await page.setInputFiles('#model-cards', [bgnbd, gg]);
  const given = page.locator('.fit.given[data-model="bgnbd"]');
  await expect(given).toContainText('from a model card', { timeout: 60_000 });
  await expect(given).toContainText('fhl.json, rates per week');
  await expect(given).toContainText('0.2426');
  await expect(page.locator('#model-cards-error')).toBeHidden();
  await expect(page.locator('.fit[data-model="pnbd"]')).toHaveCount(0); // not fitted
  await expect(page.locator('.fit.given[data-model="gg"]')).toContainText('15.44');
  // The predictions download equals `clv predict --model-card` with the same cards.
  await page.selectOption('#table-model', 'bgnbd');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-predictions-csv')]);
  const ours = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8').trim().split('\n');
  const cli = execFileSync('target/debug/clv', ['predict', '--input', 'tests/data/cdnow_sample_transactions.csv', '--cutoff', '1997-09-30',
    '--model-card', bgnbd, '--model-card', gg, '--horizon-days', '90', '--discount-rate', '0.1'],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n');
  expect(ours.length).toBe(2358);
  expect(ours[0]).toBe(cli[0]);
  let worst = 0;
  for (let i = 1; i < cli.length; i++) {
    const a = ours[i].split(','), b = cli[i].split(',');
    expect(a[0]).toBe(b[0]);
    for (let j = 1; j < a.length; j++) {
      const x = Number(a[j]), y = Number(b[j]);
      if (Number.isFinite(y)) worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)));
    }
  }
  expect(worst).toBeLessThan(1e-12);
  expect(errors).toEqual([]);
});

test('a customer\'s drill-down shows the distribution of their purchases, as clv predict --pmf computes it', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await cdnowSampleAt(page, '1997-09-30');
  await expect(page.locator('#sum-repeat')).not.toHaveText('');
  // Fader, Hardie & Lee's (2005) BG/NBD, so page and CLI evaluate the same model.
  const card = fhlCard(testInfo);
  await page.setInputFiles('#model-cards', [card]);
  const open = page.locator('#customer-table .customer-open').first();
  await expect(open).toBeVisible({ timeout: 60_000 });
  const id = (await open.textContent())!.trim();
  await open.focus();
  await page.keyboard.press('Enter'); // by keyboard
  const detail = page.locator('#customer-detail');
  await expect(detail).toContainText(`Customer ${id} under BG/NBD`);
  await expect(page.locator('#customer-sentence')).toContainText('the chance they are still a customer');
  await expect(page.locator('#customer-pmf')).toBeVisible();
  await page.locator('#customer-pmf details summary').click();
  const rows = page.locator('#customer-pmf-table tbody tr');
  await expect(rows.first()).toBeVisible(); // built when opened
  const shown = await rows.count();
  expect(shown).toBeGreaterThanOrEqual(7);
  const cli = execFileSync('target/debug/clv', ['predict', '--input', 'tests/data/cdnow_sample_transactions.csv', '--cutoff', '1997-09-30',
    '--model-card', card, '--horizon-days', '90', '--pmf', String(shown - 2)], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString().trim().split('\n');
  const header = cli[0].split(',');
  const row = cli.find(l => l.split(',')[0] === id)!.split(',');
  for (let n = 0; n < shown; n++) {
    const column = n === shown - 1 ? 'p_more' : `p_${n}`;
    const expected = Number(row[header.indexOf(column)]).toFixed(4);
    await expect(rows.nth(n).locator('td').nth(0)).toHaveText(expected);
  }
  // Their history: the purchase days to the cutoff as dots (first purchase + repeat purchases),
  // and P(alive) along it, equal at the cutoff to the table's P(alive) (from the CLI's p_alive).
  const frequency = Number(row[header.indexOf('frequency')]);
  await expect(page.locator('#customer-alive-path circle.purchase:not(.later)')).toHaveCount(frequency + 1);
  await page.locator('#customer-alive-path details summary').click();
  const atCutoff = page.locator('#customer-alive-path-table tbody tr', { has: page.locator('th', { hasText: '1997-09-30' }) });
  await expect(atCutoff.locator('td').first()).toHaveText(Number(row[header.indexOf('p_alive')]).toFixed(4));
  await detail.screenshot({ path: testInfo.outputPath('drill.png') });
  expect(errors).toEqual([]);
});

test('Gamma–Gompertz/NBD is one tick away, and says that on CDNOW it is Pareto/NBD at its edge', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await cdnowSampleAt(page, '1997-09-30');
  await page.click('#compute');
  await expect(page.locator('#sum-repeat')).not.toHaveText('');
  await page.check('#fit-ggomnbd');
  await page.click('#fit-models');
  const card = page.locator('.fit[data-model="ggomnbd"]');
  await expect(card.locator('.badge')).toHaveText('at a boundary', { timeout: 120_000 });
  await expect(card).toContainText('lifetimes do not age');
  // The limiting model is Pareto/NBD at the published CDNOW optimum (Bemmaor & Glady 2012, Table 2).
  await expect(card.locator('.limiting')).toContainText('0.5533');
  await expect(card.locator('.limiting')).toContainText('10.57');
  await expect(card.locator('.limiting')).toContainText('beta/b');
  await expect(card.locator('.limiting')).toContainText('log-likelihood -9594.97');
  await card.screenshot({ path: testInfo.outputPath('ggomnbd.png') });
  expect(errors).toEqual([]);
});

test('frequency × recency: P(alive) and expected purchases on a grid, as the model computes them', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await cdnowSampleAt(page, '1997-09-30');
  await expect(page.locator('#sum-repeat')).not.toHaveText('');
  await page.setInputFiles('#model-cards', [fhlCard(testInfo)]);
  await expect(page.locator('#explore-alive')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#explore-summary')).toContainText('BG/NBD for customers who made their first purchase');
  // Hand-computed (Fader, Hardie & Lee 2005, eq. 9 at t_x = T): one who bought again at the
  // end of the calibration is alive with 1 / (1 + a / (b + x − 1)).
  await page.locator('#explore-alive details summary').click();
  const rows = page.locator('#explore-alive-table tbody tr');
  await expect(rows.first()).toBeVisible(); // built when opened
  const [a, b] = [0.792886, 2.425754];
  for (const x of [1, 2, 5]) {
    const cells = await rows.nth(x).locator('td').allTextContents();
    expect(Number(cells[cells.length - 1])).toBeCloseTo(1 / (1 + a / (b + x - 1)), 3);
    // At a fixed frequency, P(alive) rises with recency.
    const values = cells.map(Number);
    for (let k = 1; k < values.length; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1]);
  }
  // Hover values and iso-value lines.
  await expect(page.locator('#explore-alive-readout')).toHaveText('Point at a cell for its value.');
  // The drawing is 640 × 320 with the cells from x = 56 to 630 and y = 10 to 280: the pointer
  // at the bottom-left cell, then at the top-right one.
  const svg = page.locator('#explore-alive svg');
  const box = (await svg.boundingBox())!;
  await svg.hover({ position: { x: 60 / 640 * box.width, y: 276 / 320 * box.height } });
  await expect(page.locator('#explore-alive-readout')).toHaveText(/^repeat purchases 0, recency \(weeks\) 0\.0: P\(alive\) 1\.000$/);
  await svg.hover({ position: { x: 626 / 640 * box.width, y: 14 / 320 * box.height } });
  await expect(page.locator('#explore-alive-readout')).not.toContainText('repeat purchases 0,');
  const edges = await page.locator('#explore-alive path.contour').evaluateAll(p => p.map(e => (e.getAttribute('d')!.match(/M/g) || []).length));
  expect(edges.reduce((s, n) => s + n, 0)).toBeGreaterThan(5);
  // Another age: the grid follows.
  const before = await page.locator('#explore-summary').textContent();
  const ages = await page.locator('#explore-t option').evaluateAll(o => o.map(e => (e as HTMLOptionElement).value));
  expect(ages.length).toBe(5);
  await page.selectOption('#explore-t', ages[0]);
  await expect(page.locator('#explore-summary')).not.toHaveText(before!);
  await expect(page.locator('#explore-expected')).toBeVisible();
  await page.locator('#explore').screenshot({ path: testInfo.outputPath('explore.png') });
  expect(errors).toEqual([]);
});
