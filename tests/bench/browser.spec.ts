import { test, expect } from '@playwright/test';
import { execFileSync, execSync } from 'child_process';
import * as fs from 'fs';
import { atPapersCutoff } from '../e2e/helpers';

// Written by `./dev bench`: a simulated transaction file and the native timings for it.
const FILE = process.env.CLV_BENCH_FILE ?? 'target/bench/sim.csv';

/** Resident memory (MB) of Chromium: [largest renderer process (the tab and its worker), all processes]. */
function chromiumRssMb(): [number, number] {
  const out = execSync('ps -eo rss=,args=').toString();
  const procs = out.split('\n').filter(l => l.includes('chromium'));
  const mb = (l: string) => Number(l.trim().split(/\s+/)[0]) / 1024;
  const renderer = Math.max(0, ...procs.filter(l => l.includes('--type=renderer')).map(mb));
  return [renderer, procs.reduce((s, l) => s + mb(l), 0)];
}

test('ingest + summary of a large file in the tab', async ({ page }) => {
  expect(fs.existsSync(FILE), `${FILE} is made by ./dev bench`).toBe(true);
  const mb = fs.statSync(FILE).size / 1e6;
  const t0 = Date.now();
  execFileSync('target/release/clv', ['summary', '--input', FILE, '--cutoff', '2021-06-30', '--unit', 'week'], { maxBuffer: 1 << 30 });
  const native = (Date.now() - t0) / 1000;

  await page.goto('/');
  await page.setInputFiles('#csv', FILE);
  await expect(page.locator('#mapping')).toBeVisible();
  let [tabPeak, allPeak] = chromiumRssMb();
  const sampler = setInterval(() => {
    const [t, a] = chromiumRssMb();
    tabPeak = Math.max(tabPeak, t);
    allPeak = Math.max(allPeak, a);
  }, 250);
  const t1 = Date.now();
  await page.click('#analyse');
  await expect(page.locator('#sum-customers')).not.toHaveText('', { timeout: 900_000 });
  const tab = (Date.now() - t1) / 1000;
  clearInterval(sampler);
  const rows = await page.locator('#stat-rows').textContent();
  console.log(`BENCH file ${mb.toFixed(0)} MB, ${rows} rows: native clv summary ${native.toFixed(2)} s; ` +
    `tab ingest + summary ${tab.toFixed(2)} s (${(tab / native).toFixed(2)}× native); ` +
    `peak RSS: tab renderer ${tabPeak.toFixed(0)} MB, all Chromium processes ${allPeak.toFixed(0)} MB`);
});

test('model fits in the tab against the native CLI (demo data)', async ({ page }) => {
  const t0 = Date.now();
  for (const m of ['bgnbd', 'pnbd', 'mbgnbd', 'gg']) {
    execFileSync('target/release/clv', ['fit', '--input', 'www/demo/cdnow.csv', '--cutoff', '1997-09-30', '--model', m, '--json']);
  }
  const native = (Date.now() - t0) / 1000;
  await page.goto('/');
  await page.click('#demo');
  await expect(page.locator('#sum-customers')).toHaveText('23,570', { timeout: 60_000 });
  await page.fill('#cutoff', '1997-09-30');
  await page.locator('#cutoff').dispatchEvent('change');
  await page.click('#compute');
  await expect(page.locator('#sum-repeat')).toHaveText('9,451');
  const t1 = Date.now();
  await page.click('#fit-models');
  await expect(page.locator('.fit[data-model="gg"] .badge')).toHaveText('converged', { timeout: 600_000 });
  const tab = (Date.now() - t1) / 1000;
  console.log(`BENCH fits (BG/NBD, Pareto/NBD, MBG/NBD, Gamma–Gamma on 23,570 CDNOW customers): native ${native.toFixed(2)} s, ` +
    `tab ${tab.toFixed(2)} s (${(tab / native).toFixed(2)}× native, tab includes predictions for the table)`);
});

test('cohort forecasts in the tab against the native CLI (1,000 daily cohorts)', async ({ page }) => {
  const file = 'target/bench/cohorts.csv';
  expect(fs.existsSync(file), `${file} is made by ./dev bench`).toBe(true);
  const args = ['cohorts', '--input', file, '--cohort', 'day', '--horizon-days', '365'];
  execFileSync('target/release/clv', ['inspect', '--input', file]); // warm the file cache
  const t0 = Date.now();
  execFileSync('target/release/clv', args, { maxBuffer: 1 << 28 });
  const nativeAll = (Date.now() - t0) / 1000;
  const t00 = Date.now();
  execFileSync('target/release/clv', ['inspect', '--input', file]);
  const nativeRead = (Date.now() - t00) / 1000;
  await page.goto('/');
  await page.setInputFiles('#csv', file);
  await page.click('#analyse');
  await expect(page.locator('#sum-customers')).not.toHaveText('', { timeout: 600_000 });
  await page.selectOption('#cohort-grain', 'day');
  await page.selectOption('#cohort-age-unit', 'week');
  await page.selectOption('#cohort-horizon', '365');
  const t1 = Date.now();
  await page.click('#build-cohorts');
  await expect(page.locator('#cohort-summary')).toContainText('1,000 cohorts', { timeout: 600_000 });
  const tab = (Date.now() - t1) / 1000;
  const native = Math.max(nativeAll - nativeRead, 1e-3);
  const forecast = await page.locator('#cohort-clv tbody tr:not([data-method="observed"])').count();
  console.log(`BENCH cohorts (1,000 daily cohorts, value at 365 days; ${forecast} of the shown rows forecast): ` +
    `native clv cohorts minus reading ${native.toFixed(2)} s (multi-threaded), tab ${tab.toFixed(2)} s ` +
    `(${(tab / native).toFixed(2)}× native, one thread, includes the reply and rendering)`);
});

test('model fits on the large file (~1M customers) in the tab against the native CLI, on 1 and on all cores', async ({ page }) => {
  expect(fs.existsSync(FILE), `${FILE} is made by ./dev bench`).toBe(true);
  const cutoff = '2021-12-31';
  const time = (args: string[]) => {
    const t = Date.now();
    execFileSync('target/release/clv', args, { maxBuffer: 1 << 30 });
    return (Date.now() - t) / 1000;
  };
  const read = time(['summary', '--input', FILE, '--cutoff', cutoff, '--unit', 'week']);
  let native = 0;
  for (const m of ['bgnbd', 'pnbd', 'mbgnbd', 'gg']) {
    native += time(['fit', '--input', FILE, '--cutoff', cutoff, '--model', m, '--json']) - read;
  }
  /** Drop → customer table in the tab with `threads` fits at once (undefined: the machine's cores). */
  const flow = async (threads?: number) => {
    await page.goto(threads ? `/?threads=${threads}` : '/');
    await page.setInputFiles('#csv', FILE);
    await expect(page.locator('#mapping')).toBeVisible();
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, chromiumRssMb()[0]); }, 250);
    const t0 = Date.now();
    await page.click('#analyse');
    await expect(page.locator('#sum-customers')).not.toHaveText('', { timeout: 900_000 });
    const ingest = (Date.now() - t0) / 1000;
    await page.fill('#cutoff', cutoff);
    await page.locator('#cutoff').dispatchEvent('change');
    await page.click('#compute');
    await expect(page.locator('#sum-repeat')).not.toHaveText('', { timeout: 300_000 });
    const t1 = Date.now();
    await page.click('#fit-models');
    await expect(page.locator('.fit[data-model="gg"] .badge')).toHaveText('converged', { timeout: 900_000 });
    await expect(page.locator('#customer-table tbody tr').first()).toBeVisible({ timeout: 300_000 });
    const fits = (Date.now() - t1) / 1000;
    clearInterval(sampler);
    return { ingest, fits, total: (Date.now() - t0) / 1000, peak };
  };
  const one = await flow(1);
  const all = await flow();
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const customers = await page.locator('#sum-customers').textContent();
  console.log(`BENCH fits on ${customers} simulated customers (BG/NBD, Pareto/NBD, MBG/NBD, Gamma–Gamma, then the first ` +
    `table page): native ${native.toFixed(2)} s (each clv fit minus reading and summarising the file, multi-threaded); ` +
    `tab, 1 fit at a time ${one.fits.toFixed(2)} s (${(one.fits / native).toFixed(2)}× native), ` +
    `${cores} at a time ${all.fits.toFixed(2)} s (${(all.fits / native).toFixed(2)}× native; ${(one.fits / all.fits).toFixed(2)}× faster ` +
    `than 1). Drop → table (ingest ${all.ingest.toFixed(2)} s, cutoff, fits, table): ${all.total.toFixed(2)} s ` +
    `(${one.total.toFixed(2)} s with 1); peak tab renderer RSS ${all.peak.toFixed(0)} MB (${one.peak.toFixed(0)} MB with 1)`);
});

/** Seconds from `start` at which each of `phases` first appeared in a text stream. */
function phaseTimes(seen: [number, string][], phases: string[], start: number): number[] {
  return phases.map(p => {
    const hit = seen.find(([, text]) => text.includes(p));
    return hit ? (hit[0] - start) / 1000 : NaN;
  });
}

test('learned models in the tab against the native CLI (CDNOW master, holdout from 1997-09-30)', async ({ page }) => {
  const phases = ['Training the boosted trees', 'Training the sequence model: pass 1 ', 'Simulating the holdout'];
  // Native: the same steps, said on stderr.
  const { spawn } = await import('child_process');
  const nativeSeen: [number, string][] = [];
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const p = spawn('target/release/clv', ['evaluate', '--input', 'www/demo/cdnow.csv', '--cutoff', '1997-09-30',
      '--holdout-end', '1998-06-30', '--unit', 'week', '--learned'], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr.on('data', d => nativeSeen.push([Date.now(), d.toString()]));
    p.on('exit', code => (code === 0 ? resolve() : reject(new Error(`clv exited ${code}`))));
  });
  const native = [...phaseTimes(nativeSeen, phases, t0), (Date.now() - t0) / 1000];

  await atPapersCutoff(page);
  await page.locator('#evaluate-learned').check();
  const tabSeen: [number, string][] = [];
  const t1 = Date.now();
  await page.click('#evaluate');
  const rows = page.locator('#holdout-table tbody tr');
  while ((await rows.count()) < 7 && Date.now() - t1 < 600_000) {
    const work = page.locator('#holdout-work');
    if (await work.count()) tabSeen.push([Date.now(), (await work.textContent()) ?? '']);
    await page.waitForTimeout(100);
  }
  await expect(rows).toHaveCount(7);
  const tab = [...phaseTimes(tabSeen, phases, t1), (Date.now() - t1) / 1000];
  // Durations: BTYD fits, boosted trees, sequence training, simulation.
  const spans = (t: number[]) => [t[0], t[1] - t[0], t[2] - t[1], t[3] - t[2]];
  const [n, b] = [spans(native), spans(tab)];
  const names = ['BTYD fits + scoring', 'boosted trees (8 snapshots, 100 trees)', 'sequence model training', 'sequence simulation'];
  console.log('BENCH learned models (23,570 CDNOW customers; native = clv evaluate --learned on all cores, tab = one worker thread): ' +
    names.map((name, i) => `${name}: native ${n[i].toFixed(2)} s, tab ${b[i].toFixed(2)} s (${(b[i] / n[i]).toFixed(2)}×)`).join('; '));
});

test('first load: every file the page transfers, raw and gzipped', async ({ page, context }) => {
  const { gzipSync } = await import('zlib');
  const files: [string, number, number][] = [];
  const pending: Promise<void>[] = [];
  // The context sees the worker's own requests too (its script and wasm).
  context.on('response', r => {
    pending.push(r.body().then(b => { files.push([new URL(r.url()).pathname, b.length, gzipSync(b, { level: 9 }).length]); }, () => {}));
  });
  await page.goto('/');
  await expect(page.locator('#csv')).toBeAttached();
  await page.waitForLoadState('networkidle');
  await Promise.all(pending);
  files.sort((a, b) => b[2] - a[2]);
  const kb = (n: number) => (n / 1024).toFixed(1);
  for (const [path, raw, gz] of files) console.log(`BENCH first load ${path}: ${kb(raw)} KB raw, ${kb(gz)} KB gzipped`);
  const total = files.reduce((s, f) => [s[0] + f[1], s[1] + f[2]], [0, 0]);
  console.log(`BENCH first load total: ${files.length} files, ${kb(total[0])} KB raw, ${kb(total[1])} KB gzipped`);
});

// Written by `./dev bench` with DuckDB (`clv sql --emit histogram --calendar week` on the file above).
const HISTOGRAM = process.env.CLV_BENCH_HISTOGRAM ?? 'target/bench/histogram-week.csv';
const HISTOGRAM_UNIT = process.env.CLV_BENCH_HISTOGRAM_UNIT ?? 'week';

test('a warehouse histogram (calendar weeks) fitted in the tab against the native CLI', async ({ page }) => {
  expect(fs.existsSync(HISTOGRAM), `${HISTOGRAM} is made by ./dev bench`).toBe(true);
  const native = (models: string[]) => {
    const t0 = Date.now();
    for (const m of models) execFileSync('target/release/clv', ['fit', '--input', HISTOGRAM, '--unit', HISTOGRAM_UNIT, '--model', m]);
    return (Date.now() - t0) / 1000;
  };
  await page.goto('/');
  await page.setInputFiles('#csv', HISTOGRAM);
  await page.selectOption('#summary-unit', HISTOGRAM_UNIT);
  await page.click('#analyse');
  await expect(page.locator('#sum-rows')).not.toHaveText('', { timeout: 60_000 });
  const rows = await page.locator('#sum-rows').textContent();
  const customers = await page.locator('#sum-customers').textContent();
  const kb = fs.statSync(HISTOGRAM).size / 1024;
  console.log(`BENCH histogram ${kb.toFixed(0)} KB, ${rows} rows for ${customers} customers`);
  // The page's default fits (Gamma–Gamma is refused on a histogram: it says why at once), then
  // with Gamma–Gompertz/NBD ticked: four count models.
  for (const models of [['bgnbd', 'pnbd', 'mbgnbd'], ['bgnbd', 'pnbd', 'mbgnbd', 'ggomnbd']]) {
    const cli = native(models);
    if (models.includes('ggomnbd')) await page.check('#fit-ggomnbd');
    const t1 = Date.now();
    await page.click('#fit-models');
    // Gamma–Gompertz/NBD may end at a boundary (then its badge says so): any verdict ends the wait.
    for (const m of models) await expect(page.locator(`.fit[data-model="${m}"] .badge`)).toBeVisible({ timeout: 600_000 });
    const tab = (Date.now() - t1) / 1000;
    console.log(`BENCH   fits ${models.join(', ')}: native ${cli.toFixed(2)} s (one after another), ` +
      `tab ${tab.toFixed(2)} s (${(tab / cli).toFixed(2)}× native)`);
  }
});
