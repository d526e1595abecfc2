import { test, expect } from '@playwright/test';
import { STATIC, watchErrors } from './helpers';

test('a full session makes no request to another origin, and none but static files after the upload', async ({ page, baseURL }) => {
  const requests: { url: string; phase: string }[] = [];
  let phase = 'load';
  page.context().on('request', r => requests.push({ url: r.url(), phase })); // context: sees the worker too
  const errors = watchErrors(page);
  await page.goto('/');
  await page.click('#demo');
  await expect(page.locator('#stat-rows')).toHaveText('69,659', { timeout: 60_000 });
  phase = 'upload';
  await page.setInputFiles('#csv', {
    name: 'mine.csv', mimeType: 'text/csv',
    buffer: Buffer.from('customer_id,order_date,total\nsecret-1,2024-01-01,10\nsecret-1,2024-02-01,20\nsecret-2,2024-01-15,5\n'),
  });
  await page.click('#analyse');
  await expect(page.locator('#stat-customers')).toHaveText('2');
  await expect(page.locator('#sum-customers')).toBeVisible();
  await page.click('#compute');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-features')]);
  expect(download.suggestedFilename()).toMatch(/^features_/);
  await page.waitForTimeout(500);

  const origin = new URL(baseURL!).origin;
  const foreign = requests.filter(r => !r.url.startsWith('blob:') && new URL(r.url).origin !== origin);
  expect(foreign).toEqual([]);
  const afterUpload = requests.filter(r => r.phase === 'upload')
    .filter(r => !(r.url.startsWith(origin) && STATIC.some(p => p.test(new URL(r.url).pathname))))
    .filter(r => !r.url.startsWith(`blob:${origin}/`)); // the export download: memory → disk
  expect(afterUpload).toEqual([]);
  expect(requests.filter(r => r.phase === 'load').length).toBeGreaterThan(5);
  expect(errors).toEqual([]);
});

test('the Content-Security-Policy blocks a fetch to another origin', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('h1')).toBeVisible();
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  for (const part of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'none'"]) {
    expect(csp).toContain(part);
  }
  const outcome = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', e => violations.push(e.violatedDirective));
    try {
      await fetch('https://example.com/x');
      return { fetched: true, violations };
    } catch (e) {
      await new Promise(r => setTimeout(r, 100));
      return { fetched: false, error: String(e), violations };
    }
  });
  expect(outcome.fetched).toBe(false);
  expect(outcome.violations).toContain('connect-src');
  // Inline scripts are refused too.
  const ran = await page.evaluate(async () => {
    (window as any).__inline = false;
    const s = document.createElement('script');
    s.textContent = 'window.__inline = true';
    document.body.appendChild(s);
    await new Promise(r => setTimeout(r, 50));
    return (window as any).__inline;
  });
  expect(ran).toBe(false);
});
