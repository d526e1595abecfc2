import { test, expect } from '@playwright/test';
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import { atPapersCutoff, expectSamePredictions, watchErrors } from './helpers';

// Written by `./dev test` before Playwright runs: the native CLI's output for the demo file.
const EXPECTED = 'target/e2e-expected/predictions_pnbd.csv';

test('models fit in the worker, with parameters, SEs and convergence', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await atPapersCutoff(page);
  await page.click('#fit-models');
  await expect(page.locator('#models-work')).toBeVisible();
  for (const m of ['bgnbd', 'pnbd', 'mbgnbd', 'gg']) {
    await expect(page.locator(`.fit[data-model="${m}"] .badge`)).toHaveText('converged', { timeout: 60_000 });
  }
  await expect(page.locator('#models-work')).toHaveCount(0);
  await expect(page.locator('.fit[data-model="bgnbd"] .warnings')).toContainText('P(alive) = 1 by construction');
  await expect(page.locator('.fit[data-model="gg"] .warnings')).toContainText('backfilled');
  await expect(page.locator('#frequency-chart rect')).toHaveCount(16); // 0…6 and 7+, expected and actual
  // The customer table: paged in the worker.
  await expect(page.locator('#customer-table tbody tr')).toHaveCount(25);
  await expect(page.locator('#page-info')).toContainText('page 1 of 943');
  await page.click('#next-page');
  await expect(page.locator('#page-info')).toContainText('page 2 of 943');
  await page.fill('#table-search', '00001');
  await expect(page.locator('#page-info')).toContainText('of 23,570 customers');
  await expect(page.locator('#customer-table tbody tr').first()).toContainText('00001');
  await page.screenshot({ path: testInfo.outputPath('models.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('the predictions export equals the CLI output for the same file and settings', async ({ page }) => {
  expect(fs.existsSync(EXPECTED), `${EXPECTED} is written by ./dev test`).toBe(true);
  await atPapersCutoff(page);
  await page.click('#fit-models');
  await expect(page.locator('.fit[data-model="pnbd"] .badge')).toHaveText('converged', { timeout: 60_000 });
  await page.selectOption('#table-model', 'pnbd');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-predictions-csv')]);
  expect(download.suggestedFilename()).toBe('predictions_pnbd.csv');
  const ours = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8');
  expectSamePredictions(ours, fs.readFileSync(EXPECTED, 'utf8'));
});

test('holdout evaluation: metrics beside the naive baseline, the guide, and the charts', async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await atPapersCutoff(page);
  await expect(page.locator('#holdout-end')).toHaveValue('1998-06-30');
  await page.click('#evaluate');
  await expect(page.locator('#holdout-table tbody tr')).toHaveCount(4, { timeout: 90_000 });
  await expect(page.locator('#holdout-table tbody tr[data-model="naive"]')).toBeVisible();
  await expect(page.locator('#metric-guide')).toContainText('median');
  await expect(page.locator('#tracking-chart path.line')).toHaveCount(5);
  await expect(page.locator('#decile-chart rect')).toHaveCount(20);
  // From acquisition: actual and the three models over 78 weeks, the cutoff marked at week 39.
  await expect(page.locator('#acquisition-chart path.line')).toHaveCount(4);
  await expect(page.locator('#acquisition-chart line.marker')).toHaveCount(1);
  await expect(page.locator('#acquisition-chart')).toContainText('cutoff');
  // Conditional expectations of the chosen model equal `clv evaluate` (the binary ./dev test built).
  await page.selectOption('#accuracy-model', 'pnbd');
  await expect(page.locator('#conditional-frequency svg title')).toContainText('Pareto/NBD');
  const cli = JSON.parse(execFileSync('target/debug/clv', ['evaluate', '--input', 'www/demo/cdnow.csv', '--cutoff', '1997-09-30',
    '--holdout-end', '1998-06-30', '--unit', 'week', '--json'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString());
  const pnbd = cli.models.find((m: { model: string }) => m.model === 'pnbd');
  for (const [chart, key] of [['conditional-frequency', 'by_frequency'], ['conditional-recency', 'by_recency']]) {
    await page.locator(`#${chart}-details > summary`).click(); // tables are built when opened
    const rows = page.locator(`#${chart}-table tbody tr`);
    await expect(rows).toHaveCount(pnbd[key].length);
    for (let i = 0; i < pnbd[key].length; i++) {
      const g = pnbd[key][i];
      await expect(rows.nth(i).locator('th')).toHaveText(g.group);
      const [predicted, actual] = (await rows.nth(i).locator('td').allTextContents()).map(t => Number(t.replace(/,/g, '')));
      expect(Math.abs(predicted - g.predicted)).toBeLessThan(1.5e-4);
      expect(Math.abs(actual - g.actual)).toBeLessThan(1.5e-4);
    }
  }
  await expect(page.locator('#conditional-frequency-table tbody tr th').last()).toHaveText('7+');
  await page.screenshot({ path: testInfo.outputPath('holdout.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('learned models on the leaderboard: boosted trees, the ensemble and the sequence model beside Pareto/NBD, equal to clv evaluate --learned', async ({ page }, testInfo) => {
  test.setTimeout(300_000); // CDNOW master: the sequence model trains in the tab on one thread
  const errors = watchErrors(page);
  await atPapersCutoff(page);
  await page.locator('#evaluate-learned').check(); // a native checkbox with its label: keyboard and screen reader as any
  await page.click('#evaluate');
  // The sequence model's passes are said while it trains.
  await expect(page.locator('#holdout-work')).toContainText('Training the sequence model: pass', { timeout: 120_000 });
  const rows = page.locator('#holdout-table tbody tr');
  await expect(rows).toHaveCount(7, { timeout: 180_000 });
  expect(await rows.evaluateAll(rs => rs.map(r => r.getAttribute('data-model')))).toEqual(['bgnbd', 'pnbd', 'mbgnbd', 'gbt', 'ensemble', 'sequence', 'naive']);
  const cli = JSON.parse(execFileSync('target/debug/clv', ['evaluate', '--input', 'www/demo/cdnow.csv', '--cutoff', '1997-09-30',
    '--holdout-end', '1998-06-30', '--unit', 'week', '--learned', '--json'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString());
  for (const code of ['gbt', 'ensemble', 'sequence']) {
    const want = cli.models.find((m: { model: string }) => m.model === code);
    const cells = await page.locator(`#holdout-table tbody tr[data-model="${code}"] td`).allTextContents();
    // predicted total (one decimal) and RMSE (four): wasm and native libm differ in the last digits of the fits.
    expect(Math.abs(Number(cells[1].replace(/,/g, '')) - want.predicted_total)).toBeLessThan(1e-4 * want.predicted_total);
    expect(Math.abs(Number(cells[5]) - want.rmse)).toBeLessThan(2e-4);
  }
  // The verdict's words (who wins) as the CLI's; its digits may move in the last place.
  await expect(page.locator('#learned-verdict')).toContainText(cli.learned.verdict.sentence.split(':')[0]);
  await expect(page.locator('#learned-verdict')).toContainText('95% paired-bootstrap interval');
  // Net revenue, forecast three ways, in the CLI's order (best RMSE first).
  const revenue = page.locator('#learned-revenue tbody tr th');
  await expect(revenue).toHaveText(cli.learned.revenue.rows.map((r: { model: string }) => r.model));
  await page.locator('#learned-details > summary').click();
  await expect(page.locator('#learned-importance li')).toHaveCount(8);
  await expect(page.locator('#learned-sequence')).toContainText(`read 23,570 customers' weekly histories (${cli.learned.sequence.distinct.toLocaleString('en-US')} distinct`);
  await expect(page.locator('#learned-importance li').first()).toContainText(`${(100 * cli.learned.importance[0][1]).toFixed(1)}% of the split gain`);
  // Save the trained models, load the file back, and score the customers at the forecast cutoff
  // (1997-09-30, 90 days): the CSV equals clv score's with that file.
  const [saved] = await Promise.all([page.waitForEvent('download'), page.click('#learned-save')]);
  const modelPath = testInfo.outputPath('model.json');
  await saved.saveAs(modelPath);
  expect(JSON.parse(fs.readFileSync(modelPath, 'utf8')).format).toBe('clv-learned-model/1');
  const [scored] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.setInputFiles('#learned-model-file', modelPath)]);
  expect(scored.suggestedFilename()).toBe('learned-scores-1997-09-30.csv');
  const tabCsv = fs.readFileSync(await scored.path(), 'utf8').trim().split('\n');
  const cliCsv = execFileSync('target/debug/clv', ['score', '--input', 'www/demo/cdnow.csv', '--model', modelPath, '--horizon-days', '90'],
    { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString().trim().split('\n');
  expect(tabCsv[0]).toBe('user_id,base_forecast,prediction,sequence_mean,sequence_median');
  expect(tabCsv.length).toBe(cliCsv.length);
  for (let i = 1; i < cliCsv.length; i += 97) {
    const [t, c] = [tabCsv[i].split(','), cliCsv[i].split(',')];
    expect(t[0]).toBe(c[0]);
    for (let k = 1; k < 5; k++) expect(Math.abs(Number(t[k]) - Number(c[k]))).toBeLessThan(1e-6 * (1 + Math.abs(Number(c[k]))));
  }
  // Another loss for the trees makes the shown report stale, naming the one it was computed with.
  await page.selectOption('#learned-loss', 'l1');
  await expect(page.locator('#holdout-stale')).toContainText("trees' loss: Poisson");
  await page.selectOption('#learned-loss', 'poisson');
  await expect(page.locator('#holdout-stale')).toHaveCount(0);
  // Unticking makes the shown report stale: it was computed with the learned models.
  await page.locator('#evaluate-learned').uncheck();
  await expect(page.locator('#holdout-stale')).toContainText('with the learned models');
  expect(errors).toEqual([]);
});
