// <clv-widget>: CLV Lab's lesson, embeddable in any page. One module script, then elements:
//
//   <script type="module" src="https://your.site/clv/clv-widget.js"></script>
//   <clv-widget view="learn/heterogeneity" model="bgnbd" params="r=0.24,alpha=4.4,a=0.79,b=2.4" height="420"></clv-widget>
//
// Views drawn by the widget's own small wasm (loaded once, when the first widget scrolls into
// view): calculator (= learn/formula), learn/heterogeneity, learn/alive, learn/money, and
// learn/simulate and learn/real-data, which fit models in the widget's own worker (the same wasm).
// "Try your CSV" needs the full app (its ingest and worker): it opens in an iframe, also only when
// scrolled into view. Everything is computed in the visitor's tab; the only requests are for
// these static files, next to this script.
const base = new URL('.', import.meta.url);
// The full app's views: its URL fragment.
const APP_VIEWS = { 'csv': 'data' };

let wasm = null;
function loadWasm() {
  wasm ??= import(new URL('widget.js', base).href).then(async (m) => {
    await m.default({ module_or_path: new URL('widget_bg.wasm', base) });
    return m;
  });
  return wasm;
}

class ClvWidget extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    for (const css of ['style.css', 'widget.css']) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = new URL(css, base).href;
      root.append(link);
    }
    const box = document.createElement('div');
    box.className = 'clv-widget-root';
    this.height = parseInt(this.getAttribute('height') || '', 10);
    if (this.height > 0) box.style.minHeight = `${this.height}px`;
    const wait = document.createElement('p');
    wait.className = 'hint widget-wait';
    wait.textContent = 'CLV Lab loads when you scroll here…';
    box.append(wait);
    root.append(box);
    this.box = box;
    const seen = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        seen.disconnect();
        this.start();
      }
    }, { rootMargin: '200px' });
    seen.observe(this);
  }

  async start() {
    const view = (this.getAttribute('view') || 'calculator').trim();
    const params = this.getAttribute('params') || '';
    const box = this.box;
    const app = APP_VIEWS[view];
    if (app !== undefined) {
      const frame = document.createElement('iframe');
      frame.src = new URL(`index.html#/${app}`, base).href;
      frame.title = 'CLV Lab: analyse your CSV in this tab';
      frame.className = 'widget-frame';
      frame.height = String(this.height > 0 ? this.height : 640);
      box.replaceChildren(frame);
      return;
    }
    try {
      const m = await loadWasm();
      box.replaceChildren();
      m.mount(box, view, params, this.getAttribute('model') || 'bgnbd', base.href);
    } catch (e) {
      const p = document.createElement('p');
      p.className = 'error';
      p.setAttribute('role', 'alert');
      p.textContent = `CLV Lab could not start here: ${e}. The page's Content-Security-Policy must allow this widget's scripts, its WebAssembly ('wasm-unsafe-eval') and fetching its .wasm (connect-src).`;
      box.replaceChildren(p);
    }
  }
}

if (!customElements.get('clv-widget')) customElements.define('clv-widget', ClvWidget);
