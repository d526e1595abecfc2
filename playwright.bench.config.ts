import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// Browser benchmarks (`./dev bench`): not part of `./dev test`.
export default defineConfig({ ...base, testDir: 'tests/bench', timeout: 900_000, reporter: 'list' });
