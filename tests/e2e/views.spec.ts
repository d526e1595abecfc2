import { test, expect, Page, TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { STATIC, watchErrors } from './helpers';

// A session through every view, as a user walks it: on the demo and on a simulated file of
// 1,000,000 customers (2.4M rows). In each view: the main thread is never blocked (long tasks,
// observed from the first paint), nothing is requested but the page's own static files, no
// serious or critical axe violation, nothing scrolls sideways at 390 px, and a screenshot.

/** Longest task and total blocking time (Σ beyond 50 ms) since the last call, in ms. */
async function blocking(page: Page): Promise<{ longest: number; blocking: number; tasks: number[] }> {
  const tasks: number[] = await page.evaluate(() => (window as any).__long.splice(0));
  return { longest: Math.max(0, ...tasks), blocking: tasks.reduce((s, d) => s + Math.max(0, d - 50), 0), tasks };
}

type Step = { view: string; act: (page: Page) => Promise<void> };

async function session(page: Page, testInfo: TestInfo, load: (page: Page) => Promise<void>, steps: Step[], mode: string) {
  const errors = watchErrors(page);
  const requests: string[] = [];
  page.context().on('request', r => requests.push(r.url()));
  await page.addInitScript(() => {
    (window as any).__long = [];
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) (window as any).__long.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto('/');
  // The page's own start-up (wasm instantiation, first render) is not a view: it ends after
  // `goto` resolves, so wait for the app and two frames before counting.
  await expect(page.locator('#demo')).toBeVisible();
  await page.evaluate(() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done))));
  await page.waitForTimeout(200);
  await blocking(page);
  await load(page);
  const report: string[] = [];
  const problems: string[] = [];
  for (const { view, act } of [{ view: 'data', act: async () => {} }, ...steps]) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator(`.view-link[data-view="${view}"]`).first().click();
    const t0 = Date.now();
    await act(page);
    const seconds = (Date.now() - t0) / 1000;
    const b = await blocking(page);
    report.push(`${view}: ${seconds.toFixed(1)} s, longest task ${b.longest.toFixed(0)} ms, blocking ${b.blocking.toFixed(0)} ms`);
    // A lone 50–100 ms task happens on a loaded 2-core VM without any page work (57 ms seen once
    // in CI; see app.spec.ts): the bound is on the longest task and on the total blocking time.
    if (b.longest >= 100 || b.blocking >= 100) problems.push(`${view}: long tasks ${JSON.stringify(b.tasks)}`);
    await page.screenshot({ path: testInfo.outputPath(`${mode}-${view}-1280.png`), fullPage: false });
    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    axe.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
      .forEach(v => problems.push(`${view}: axe ${v.id} — ${v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(' | ')}`));
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) problems.push(`${view}: ${overflow} px sideways scroll at 390 px`);
    await page.screenshot({ path: testInfo.outputPath(`${mode}-${view}-390.png`) });
    await blocking(page); // resizing and axe are the test's work, not the view's
  }
  console.log(`${mode} session:\n  ${report.join('\n  ')}`);
  const origin = new URL(page.url()).origin;
  const leaks = requests.filter(u => !u.startsWith(`blob:${origin}/`) && !u.startsWith('data:'))
    .filter(u => !(u.startsWith(origin) && STATIC.some(p => p.test(new URL(u).pathname))));
  expect(leaks, 'requests beyond the static files').toEqual([]);
  expect(problems, problems.join('\n')).toEqual([]);
  expect(errors).toEqual([]);
}

/** The views after Data, each with what a user does there and what they wait for. */
function steps(customers: string, timeout: number): Step[] {
  return [
    {
      view: 'fit', act: async page => {
        await page.click('#fit-models');
        await expect(page.locator('.fit[data-model="pnbd"] .badge')).toHaveText(/converged|at a boundary/, { timeout });
        await expect(page.locator('#leaderboard')).toBeVisible({ timeout });
      },
    },
    {
      view: 'accuracy', act: async page => {
        await page.click('#evaluate');
        await expect(page.locator('#holdout-table')).toBeVisible({ timeout });
        await expect(page.locator('#conditional-frequency')).toBeVisible();
      },
    },
    {
      view: 'explore', act: async page => {
        await expect(page.locator('#explore-alive path.cells').first()).toBeAttached({ timeout });
        await page.selectOption('#explore-t', { index: 0 });
        await expect(page.locator('#explore-summary')).toBeVisible({ timeout });
      },
    },
    {
      view: 'customers', act: async page => {
        await expect(page.locator('#customer-table tbody tr').first()).toBeVisible({ timeout });
        await page.locator('#customer-table button.sort[data-sort="PAlive"]').click();
        await expect(page.locator('#customer-table tbody tr').first()).toBeVisible({ timeout });
        await page.locator('#customer-table .customer-open').first().click();
        await expect(page.locator('#customer-detail')).toBeVisible({ timeout });
        await expect(page.locator('#customer-clv-range')).toBeVisible({ timeout });
      },
    },
    {
      view: 'value', act: async page => {
        await expect(page.locator('#kpi-customers')).toHaveText(customers, { timeout });
        await expect(page.locator('#kpi-total-range')).toContainText('95% range', { timeout });
        await expect(page.locator('#lorenz-chart')).toBeVisible();
      },
    },
    {
      view: 'cohorts', act: async page => {
        await page.click('#build-cohorts');
        await expect(page.locator('#cohort-summary')).toBeVisible({ timeout });
      },
    },
  ];
}

test('every view of the demo: responsive, private, accessible, 390 px wide', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await session(page, testInfo, async page => {
    await page.click('#demo');
    await expect(page.locator('#stat-rows')).toHaveText('69,659', { timeout: 60_000 });
  }, steps('23,570', 90_000), 'demo');
});

test('every view of 1,000,000 simulated customers: responsive, private, accessible, 390 px wide', async ({ page }, testInfo) => {
  test.setTimeout(900_000);
  const file = testInfo.outputPath('million.csv');
  // BG/NBD + Gamma–Gamma at CDNOW's published values, a year of acquisition, 18 months watched.
  execFileSync('target/debug/clv', ['simulate', '--customers', '1000000', '--params', 'r=0.24,alpha=4.4,a=0.79,b=2.4',
    '--spend', 'p=6.25,q=3.74,gamma=15.44', '--acquisition-days', '365', '--observation-days', '546', '--output', file]);
  await session(page, testInfo, async page => {
    await page.setInputFiles('#csv', file);
    await expect(page.locator('#mapping')).toBeVisible();
    await page.click('#analyse');
    await expect(page.locator('#sum-customers')).toHaveText('1,000,000', { timeout: 300_000 });
  }, steps('1,000,000', 400_000), 'million');
  fs.rmSync(file);
});
