import { defineConfig } from '@playwright/test';

// End-to-end tests run against the release build in dist/ (`trunk build --release`),
// served statically on 127.0.0.1, in the system Chromium (no browser download).
export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results',
  workers: 1,
  timeout: 120_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    baseURL: 'http://127.0.0.1:8080',
    browserName: 'chromium',
    acceptDownloads: true,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: 'python3 -m http.server 8080 --bind 127.0.0.1 --directory dist',
    url: 'http://127.0.0.1:8080/index.html',
    reuseExistingServer: false,
  },
});
