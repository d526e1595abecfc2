// The widget's own worker, for the lesson steps that fit models (the simulation, the donations):
// their own wasm (widget_lesson), loaded only by those views, so the page the widget sits in never
// waits and the views that fit nothing never load the fitting code.
// Messages: {id, kind: 'simulate' | 'donations', request} → {id, kind, value} or {id, kind, error}.
import init, { simulate, donations } from './widget_lesson.js';

const ready = init({ module_or_path: new URL('widget_lesson_bg.wasm', import.meta.url) });

self.onmessage = async (e) => {
  const { id, kind, request } = e.data;
  try {
    await ready;
    const value = kind === 'simulate' ? simulate(request) : donations();
    self.postMessage({ id, kind, value });
  } catch (err) {
    self.postMessage({ id, kind, error: String((err && err.message) || err) });
  }
};
