// Classic-worker entry: load the worker's wasm-bindgen glue, then its wasm.
importScripts('./worker.js');
wasm_bindgen({ module_or_path: './worker_bg.wasm' });
