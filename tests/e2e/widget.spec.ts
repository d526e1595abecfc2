import { test, expect, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as zlib from 'zlib';
import AxeBuilder from '@axe-core/playwright';
import { watchErrors } from './helpers';

// The embeddable widget (issue 16): `<clv-widget>` on a plain docs page served by a static
// server — it renders and reacts, two on a page do not interfere, it loads when scrolled into
// view, the host's CSS does not reach in, the only requests are its own static files, and a
// teaching view transfers at most 350 KB gzipped.

const g = (x: number, d: number) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const cli = (args: string[]) =>
  JSON.parse(execFileSync('target/debug/clv', ['learn', ...args], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());

/** The widget's own files: the loader, its wasm and glue, its styles, its iframe form and the example page. */
const WIDGET_FILES = /^\/(clv-widget\.js|widget-worker\.js|widget\.js|widget_bg\.wasm|style\.css|widget\.css|widget\.html|widget-frame\.(js|css)|embed-example\.(html|css)|two-widgets\.html|lazy\.html)$/;

function record(page: Page) {
  const urls: string[] = [];
  page.context().on('request', r => urls.push(r.url()));
  return urls;
}

/** A host page served at `path` (no CSP of its own: the test pages are the example's). */
async function host(page: Page, path: string, body: string) {
  await page.route(`**/${path}`, route => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="clv-widget.js"></script></head><body>${body}</body></html>`,
  }));
  await page.goto(`/${path}`);
}

test('the example docs page: each widget renders and reacts, equal to clv learn; only the widget\'s files are fetched', async ({ page, baseURL }, testInfo) => {
  const errors = watchErrors(page);
  const urls = record(page);
  await page.goto('/embed-example.html');
  // 1. The calculator, with the page's params.
  const calc = page.locator('#w-calculator');
  await expect(calc.locator('#learn-simple')).toHaveText('5.00 a purchase × 2 purchases a week × 52 weeks × 2 years = 1,040.00', { timeout: 30_000 });
  await calc.locator('#learn-per-week').fill('3');
  await expect(calc.locator('#learn-simple')).toHaveText(`5.00 a purchase × 3 purchases a week × 52 weeks × 2 years = ${g(cli(['--per-week', '3']).simple.value, 2)}`);
  // 2. Heterogeneity at CDNOW's parameters; a slider moved by keyboard.
  const het = page.locator('#w-heterogeneity');
  const rates = (c: any) => `Half the customers buy less than ${g(c.purchase_rates.median, 3)} times a week while they are customers; on average ${g(c.purchase_rates.mean, 3)} (one purchase every ${g(1 / c.purchase_rates.mean, 1)} weeks). One in ten buys more than ${g(c.purchase_rates.q90, 3)} a week.`;
  await expect(het.locator('#learn-rates-text')).toHaveText(rates(cli(['--params', 'r=0.24,alpha=4.4,a=0.79,b=2.4'])));
  await het.locator('#learn-r').focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await expect(het.locator('#learn-r-value')).toHaveText('0.34');
  await expect(het.locator('#learn-rates-text')).toHaveText(rates(cli(['--params', 'r=0.34,alpha=4.4,a=0.79,b=2.4'])));
  // 3. Far below: it renders when scrolled to, with its own params.
  const alive = page.locator('#w-alive');
  await expect(alive.locator('.widget-wait')).toHaveText('CLV Lab loads when you scroll here…');
  await alive.scrollIntoViewIfNeeded();
  const c = cli(['--params', 'r=0.24,alpha=4.4,a=0.79,b=2.4', '--age', '52', '--repeat', '6']).recent_and_quiet;
  await expect(alive.locator('#learn-alive-text')).toHaveText(`Two customers who joined 52 weeks ago and bought again 6 times: the one whose last purchase was a week ago is still a customer with probability ${(100 * c.recent).toFixed(1)}%; the one who has not bought since week 13, ${(100 * c.quiet).toFixed(1)}%.`);
  await expect(alive.locator('#learn-alive svg')).toBeVisible();
  // 4. The iframe form.
  const frame = page.frameLocator('#w-frame');
  await page.locator('#w-frame').scrollIntoViewIfNeeded();
  await expect(frame.locator('#learn-money-model')).toContainText('likely still a customer', { timeout: 30_000 });
  await page.locator('#w-heterogeneity').scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('embed-example-1280.png') });
  // Only the widget's own static files, from its own origin (the iframe's included).
  const origin = new URL(baseURL!).origin;
  const other = urls.filter(u => !(u.startsWith(origin) && WIDGET_FILES.test(new URL(u).pathname)));
  expect(other).toEqual([]);
  expect(urls.filter(u => u.endsWith('/widget_bg.wasm')).length).toBeGreaterThanOrEqual(1);
  expect(errors).toEqual([]);
});

test('the widgets pass axe and fit a 390 px screen', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/embed-example.html');
  for (const id of ['#w-calculator', '#w-heterogeneity', '#w-alive']) {
    await page.locator(id).scrollIntoViewIfNeeded();
    await expect(page.locator(`${id} .panel.widget`)).toBeVisible({ timeout: 30_000 });
  }
  const result = await new AxeBuilder({ page }).include('clv-widget').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => `${v.id}: ${v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(' | ')}`)).toEqual([]);
  expect(result.passes.length).toBeGreaterThan(5);
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
});

test('the host page\'s CSS does not reach into a widget', async ({ page }) => {
  await page.goto('/embed-example.html');
  const text = page.locator('#w-calculator #learn-simple');
  await expect(text).toBeVisible({ timeout: 30_000 });
  // The host hides `.panel` and `.hint`, colours every <p> red in Georgia with wide letter-spacing.
  const host = await page.locator('#host-text').evaluate(e => getComputedStyle(e).fontFamily);
  expect(host).toContain('Georgia');
  const style = await text.evaluate(e => {
    const s = getComputedStyle(e);
    return { color: s.color, font: s.fontFamily, spacing: s.letterSpacing, size: s.fontSize };
  });
  expect(style.color).toBe('rgb(29, 35, 48)');
  expect(style.font).not.toContain('Georgia');
  expect(style.spacing).toBe('normal');
  await expect(page.locator('#w-calculator .panel')).toBeVisible();
  const button = await page.locator('#w-heterogeneity .chart-tools button').first().evaluate(e => getComputedStyle(e).backgroundColor);
  expect(button).not.toBe('rgb(255, 105, 180)'); // hotpink
});

test('two widgets on one page do not interfere', async ({ page }) => {
  const errors = watchErrors(page);
  await host(page, 'two-widgets.html',
    '<clv-widget id="a" view="calculator" params="order=5"></clv-widget><clv-widget id="b" view="calculator" params="order=10,years=3"></clv-widget>');
  const a = page.locator('#a #learn-simple'), b = page.locator('#b #learn-simple');
  await expect(a).toHaveText('5.00 a purchase × 2 purchases a week × 52 weeks × 2 years = 1,040.00', { timeout: 30_000 });
  await expect(b).toHaveText('10.00 a purchase × 2 purchases a week × 52 weeks × 3 years = 3,120.00');
  await page.locator('#a #learn-order').fill('7');
  await expect(a).toHaveText('7.00 a purchase × 2 purchases a week × 52 weeks × 2 years = 1,456.00');
  await expect(b).toHaveText('10.00 a purchase × 2 purchases a week × 52 weeks × 3 years = 3,120.00');
  // Bad attributes are said in the widget, the rest still applies.
  await host(page, 'two-widgets.html', '<clv-widget id="c" view="learn/heterogeneity" model="pnbd" params="r=9,alpha=5"></clv-widget>');
  const problems = page.locator('#c .widget-problems li');
  await expect(problems).toHaveText(['model="pnbd": the lesson\'s views are BG/NBD\'s (model="bgnbd")', 'r="9": expected a number from 0.05 to 5'], { timeout: 30_000 });
  await expect(page.locator('#c #learn-alpha-value')).toHaveText('5');
  expect(errors).toEqual([]);
});

test('the wasm loads only when a widget scrolls into view', async ({ page }) => {
  const urls = record(page);
  await host(page, 'lazy.html', '<p>Prose.</p><div style="height: 4000px"></div><clv-widget id="late" view="learn/money"></clv-widget>');
  await expect(page.locator('#late .widget-wait')).toBeAttached();
  await page.waitForTimeout(1000);
  expect(urls.filter(u => u.includes('widget_bg.wasm'))).toEqual([]);
  await page.locator('#late').scrollIntoViewIfNeeded();
  await expect(page.locator('#late #learn-money-model')).toContainText('likely still a customer', { timeout: 30_000 });
  expect(urls.filter(u => u.includes('widget_bg.wasm')).length).toBe(1);
  expect(urls.filter(u => u.includes('widget-worker')), 'a view that fits nothing starts no worker').toEqual([]);
});

test('a teaching view transfers at most 350 KB gzipped, the ones that fit models included (sizes reported)', async () => {
  const gzip = (f: string) => {
    const raw = fs.readFileSync(`dist/${f}`);
    return { f, raw: raw.length, gzip: zlib.gzipSync(raw, { level: 9 }).length };
  };
  const report = (files: string[]) => {
    const sizes = files.map(gzip);
    const total = sizes.reduce((s, x) => s + x.gzip, 0);
    return { total, text: `${sizes.map(s => `${s.f} ${s.raw} B (${s.gzip} gzip)`).join(', ')}; total ${total} B gzip` };
  };
  // Every view loads the one wasm; simulate and real-data add only the worker's script (it runs the
  // module the widget already compiled, and imports the glue the widget already loaded).
  const views = report(['clv-widget.js', 'widget.js', 'widget_bg.wasm', 'style.css', 'widget.css', 'widget-worker.js']);
  console.log(`widget, any teaching view: ${views.text}`);
  expect(views.total).toBeLessThan(350 * 1024);
});

test('the lesson steps that fit models run in the widget\'s own worker, equal to clv learn and clv fit', async ({ page }) => {
  const errors = watchErrors(page);
  const urls = record(page);
  await host(page, 'two-widgets.html', '<clv-widget id="sim" view="learn/simulate" params="customers=500,seed=3"></clv-widget><clv-widget id="real" view="learn/real-data"></clv-widget>');
  const sim = page.locator('#sim');
  const c = cli(['--params', 'r=0.24,alpha=4.4,a=0.79,b=2.4', '--customers', '500', '--seed', '3']).simulation;
  await expect(sim.locator('#learn-simulation-summary')).toContainText(
    `${g(c.customers, 0)} customers watched for ${c.weeks} weeks: ${g(c.repeat_buyers, 0)} bought again at least once, ${g(c.repeat_purchases, 0)} repeat purchases in all. The fit converged.`, { timeout: 30_000 });
  await expect(sim.locator('#learn-refit tbody tr td:nth-child(3)')).toHaveText(c.refit.params.map((p: any) => g(p.value, 3)));
  // A slider of the step above redraws in the worker.
  await sim.locator('#learn-b').focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  const moved = cli(['--params', 'r=0.24,alpha=4.4,a=0.79,b=2.45', '--customers', '500', '--seed', '3']).simulation;
  await expect(sim.locator('#learn-refit tbody tr td:nth-child(3)')).toHaveText(moved.refit.params.map((p: any) => g(p.value, 3)), { timeout: 30_000 });
  // The donations: BG/BB in the widget's worker, the CLI's estimates; CDNOW links to the full app.
  const real = page.locator('#real');
  await real.scrollIntoViewIfNeeded();
  await real.locator('#learn-donations').click();
  await expect(real.locator('#learn-data-summary')).toHaveText('BG/BB fitted on 11,104 customers of the donations: converged. The paper found α 1.204, β 0.750, γ 0.657, δ 2.783 (Fader, Hardie & Shang 2010).', { timeout: 30_000 });
  const fit = JSON.parse(execFileSync('target/debug/clv', ['fit', '--json', '--input', 'tests/data/donations.csv', '--model', 'bgbb']).toString());
  await expect(real.locator('#learn-data-params tbody tr td:nth-child(2)')).toHaveText(['alpha', 'beta', 'gamma', 'delta'].map(k => g(fit.params[k], 3)));
  await expect(real.locator('#learn-cdnow-link')).toHaveAttribute('href', /\/index\.html#\/learn\?step=real-data$/);
  // Still only the widget's files: its worker is the same wasm.
  const origin = new URL(page.url()).origin;
  expect(urls.filter(u => !(u.startsWith(origin) && WIDGET_FILES.test(new URL(u).pathname)))).toEqual([]);
  expect(urls.filter(u => u.endsWith('/widget-worker.js')).length).toBe(2); // one worker per widget
  expect(urls.filter(u => u.endsWith('/widget_bg.wasm')).length, 'the workers run the module the page compiled').toBe(1);
  expect(errors).toEqual([]);
});

test('"try your CSV" opens the full app on demand, still local', async ({ page }) => {
  const errors = watchErrors(page);
  await host(page, 'two-widgets.html', '<clv-widget id="csv" view="csv" height="600"></clv-widget>');
  const csv = page.frameLocator('#csv iframe');
  await expect(csv.locator('#drop-zone')).toBeVisible({ timeout: 30_000 });
  await csv.locator('#demo').click();
  await expect(csv.locator('#sum-customers')).toHaveText('23,570', { timeout: 60_000 });
  expect(errors).toEqual([]);
});
