// The iframe form: one <clv-widget> from this page's query (view, params, model, height).
const q = new URLSearchParams(location.search);
const w = document.createElement('clv-widget');
for (const key of ['view', 'params', 'model', 'height']) {
  const v = q.get(key);
  if (v !== null) w.setAttribute(key, v);
}
document.body.append(w);
