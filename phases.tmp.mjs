import { chromium } from '@playwright/test';
const FILE = process.argv[2]; const threads = process.argv[3];
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await b.newPage();
await page.addInitScript(() => {
  const orig = Worker.prototype.postMessage;
  window.__log = [];
  Worker.prototype.postMessage = function (m, ...rest) {
    try { window.__log.push([performance.now(), 'req', m.request?.kind ?? JSON.stringify(m.request).slice(0, 60)]); } catch (e) {}
    if (!this.__hooked) { this.__hooked = true; this.addEventListener('message', ev => { const r = ev.data?.reply; window.__log.push([performance.now(), 'reply', r?.kind ?? JSON.stringify(r).slice(0,60)]); }); }
    return orig.call(this, m, ...rest);
  };
});
page.on('console', m => { if (m.type() === 'error') console.log('console:', m.text()); });
await page.goto(`http://127.0.0.1:8095/${threads ? '?threads=' + threads : ''}`);
await page.setInputFiles('#csv', FILE);
await page.waitForSelector('#mapping');
await page.click('#analyse');
await page.waitForFunction(() => document.querySelector('#sum-customers')?.textContent !== '', null, { timeout: 900000 });
await page.fill('#cutoff', '2021-12-31');
await page.locator('#cutoff').dispatchEvent('change');
await page.click('#compute');
await page.waitForFunction(() => document.querySelector('#sum-repeat')?.textContent !== '', null, { timeout: 900000 });
const t0 = Date.now();
await page.click('#fit-models');
let last = '';
while (true) {
  const s = await page.evaluate(() => [document.querySelector('#models-work')?.textContent ?? '', document.querySelectorAll('#customer-table tbody tr').length, document.querySelector('.fit[data-model="gg"] .badge')?.textContent ?? '']);
  const k = JSON.stringify(s);
  if (k !== last) { console.log(((Date.now() - t0) / 1000).toFixed(2), k); last = k; }
  if (s[1] > 0) break;
  await new Promise(r => setTimeout(r, 50));
}
const log = await page.evaluate(() => window.__log);
const base = log.find(l => l[2] === 'fit_models')?.[0] ?? 0;
for (const l of log) if (l[0] >= base) console.log(((l[0] - base) / 1000).toFixed(2), l[1], l[2]);
await b.close();
