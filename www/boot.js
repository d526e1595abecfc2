// Loads the page's wasm. External (not inline) so the CSP can forbid inline scripts.
const el = document.querySelector('script[data-js][data-wasm]');
const { default: init } = await import(el.dataset.js);
await init({ module_or_path: el.dataset.wasm });
