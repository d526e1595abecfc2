// Classic-worker entry: load the worker's wasm-bindgen glue, then its wasm. A fit helper (a worker
// the page's worker starts, named "clv-fit-helper") that cannot load says so, or its parent would
// wait for its "ready" forever; a rejected promise fires no error event in the parent.
importScripts('./worker.js');
wasm_bindgen({ module_or_path: './worker_bg.wasm' }).catch(e => {
  if (self.name === 'clv-fit-helper') postMessage({ died: `its WebAssembly did not load: ${e}` });
  throw e;
});
