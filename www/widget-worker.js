// The widget's own worker, for the lesson steps that fit models (the simulation, the donations), so
// the page the widget sits in never waits. It runs the widget's own wasm: the first message carries
// the WebAssembly.Module the widget already compiled (nothing is downloaded twice); each later one
// is {id, kind: 'simulate' | 'donations', request} → {id, kind, value} or {id, kind, error}.
import init, { simulate, donations } from './widget.js';

let ready = null;

self.onmessage = async (e) => {
  if (e.data instanceof WebAssembly.Module) {
    ready = init({ module_or_path: e.data });
    return;
  }
  const { id, kind, request } = e.data;
  try {
    if (!ready) throw new Error('the widget did not hand its module to the worker');
    await ready;
    const value = kind === 'simulate' ? simulate(request) : donations();
    self.postMessage({ id, kind, value });
  } catch (err) {
    self.postMessage({ id, kind, error: String((err && err.message) || err) });
  }
};
