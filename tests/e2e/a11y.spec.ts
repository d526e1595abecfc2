import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { loadDemo, watchErrors } from './helpers';

// axe-core (installed with the other node packages, run in the page by Playwright) on every
// view and state a user reaches: no serious or critical violation (WCAG 2.1 A and AA rules).

/** Violations found so far (every state is checked, then all are reported together). */
const found: string[] = [];

async function axe(page: Page, state: string) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${state}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
  found.push(...bad);
  // The page was really checked: axe ran its rules over the state's elements.
  expect(result.passes.length).toBeGreaterThan(10);
}

test('no serious or critical accessibility violation in any view or state', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = watchErrors(page);
  await page.goto('/');
  await axe(page, 'first page');
  await loadDemo(page);
  await axe(page, 'data loaded (Data view)');
  await page.click('#fit-models');
  await expect(page.locator('#kpi-customers')).toHaveText('23,570', { timeout: 60_000 });
  await axe(page, 'models fitted (Fit & compare, Customers, Value)');
  await page.click('#evaluate');
  await expect(page.locator('#holdout-table')).toBeVisible({ timeout: 90_000 });
  await axe(page, 'holdout evaluated (Accuracy)');
  await page.locator('#customer-table .customer-open').first().click();
  await expect(page.locator('#customer-detail')).toBeVisible({ timeout: 30_000 });
  await axe(page, 'customer drill-down');
  await page.click('#build-cohorts');
  await expect(page.locator('#cohort-summary')).toBeVisible({ timeout: 60_000 });
  await axe(page, 'cohorts');
  // Stale results and an error next to its control.
  await page.selectOption('#horizon', '90');
  await page.fill('#holdout-end', '1997-06-01');
  await page.locator('#holdout-end').dispatchEvent('change');
  await page.click('#evaluate');
  await expect(page.locator('#holdout-error')).toBeVisible();
  await axe(page, 'stale results and an error');
  await page.setViewportSize({ width: 390, height: 800 });
  await axe(page, '390 px wide');
  expect(found, found.join('\n')).toEqual([]);
  expect(errors).toEqual([]);
});
