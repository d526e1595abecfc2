//! What every chart carries besides its picture: its data as a table ("Show as a table", also
//! what a screen reader can read) and downloads of the picture as SVG and PNG. The downloads are
//! made in the tab from the chart on screen (a `blob:` or `data:` URL, never the network), with
//! the title on top, the legend below and the chart styles inlined, so the file stands alone.

use super::charts::PALETTE;
use super::format;
use crate::page::session::download;
use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

/// A chart's data, one row per point or group, cells already formatted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ChartTable {
    /// A table of a first column of labels and one column of numbers per series; each number
    /// column is formatted alike: whole numbers with thousands separators when every value is
    /// whole, else four decimals (a probability, a mean).
    pub fn new(first: String, labels: Vec<String>, series: Vec<(String, Vec<f64>)>) -> ChartTable {
        let cells: Vec<Vec<String>> = series.iter().map(|(_, v)| number_column(v)).collect();
        let rows = labels
            .into_iter()
            .enumerate()
            .map(|(i, label)| {
                std::iter::once(label).chain(cells.iter().map(|c| c.get(i).cloned().unwrap_or_default())).collect()
            })
            .collect();
        let columns = std::iter::once(first).chain(series.into_iter().map(|(name, _)| name)).collect();
        ChartTable { columns, rows }
    }
}

/// A column's numbers, formatted alike; NaN is a blank cell (no value at that point, e.g. the
/// forecast before the cutoff).
fn number_column(values: &[f64]) -> Vec<String> {
    let whole = values.iter().filter(|v| !v.is_nan()).all(|v| v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15);
    values
        .iter()
        .map(|&v| match v {
            v if v.is_nan() => String::new(),
            v if whole => format::grouped(v, 0),
            v => format::grouped(v, 4),
        })
        .collect()
}

/// The chart's styles, inlined into a download (the page's come from style.css).
const CHART_CSS: &str = ".grid{stroke:#eceff5}.line{fill:none;stroke-width:2}.marker{stroke:#6b7280;stroke-width:1.5}\
.tick{font:11px system-ui,sans-serif;fill:#5b6475}.axis{font:12px system-ui,sans-serif;fill:#1d2330}\
.title{font:600 14px system-ui,sans-serif;fill:#1d2330}.key{font:12px system-ui,sans-serif;fill:#1d2330}\
.band{fill:#2f5bd3;fill-opacity:.15;stroke:none}.dashed{stroke-dasharray:5 3}\
.contour{stroke:#d9822b;stroke-width:2.5;stroke-linecap:round;fill:none}\
.purchase{fill:#d9822b}.purchase.later{fill:#fff;stroke:#d9822b;stroke-width:1.5}";

/// Title band above a downloaded chart, legend keys per row and per-row height below it.
const HEAD: f64 = 28.0;
const KEYS_PER_ROW: usize = 3;
const KEY_ROW: f64 = 20.0;

/// The height of a downloaded chart: title, the chart, its legend rows, a margin.
fn standalone_height(height: f64, keys: usize) -> f64 {
    HEAD + height + KEY_ROW * keys.div_ceil(KEYS_PER_ROW) as f64 + 8.0
}

/// A stand-alone SVG document: the title, the chart as drawn (`inner`, the `<svg>` element's
/// markup, `width` × `height` in its own units) and one legend key per (name, colour index).
pub fn standalone_svg(title: &str, inner: &str, width: f64, height: f64, legend: &[(String, usize)]) -> String {
    let (head, per_row) = (HEAD, KEYS_PER_ROW);
    let total = standalone_height(height, legend.len());
    let keys: String = legend
        .iter()
        .enumerate()
        .map(|(i, (name, c))| {
            let (x, y) = (
                12.0 + (i % per_row) as f64 * width / per_row as f64,
                head + height + 16.0 + KEY_ROW * (i / per_row) as f64,
            );
            format!(
                r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{y}" class="key">{}</text>"#,
                y - 9.0,
                PALETTE[c % PALETTE.len()],
                x + 14.0,
                escape(name)
            )
        })
        .collect();
    // The chart keeps its own viewBox inside a nested <svg> placed below the title.
    let chart = inner.replacen("<svg", &format!(r#"<svg x="0" y="{head}" width="{width}" height="{height}""#), 1);
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" viewBox="0 0 {width} {total}"><style>{CHART_CSS}</style><rect width="100%" height="100%" fill="#fff"/><text x="12" y="19" class="title">{}</text>{chart}{keys}</svg>"##,
        escape(title)
    )
}

/// Text for XML content and attributes.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A file name from a chart's title: lower case, words joined by `-`.
pub fn file_stem(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.to_lowercase())
        .collect();
    if words.is_empty() {
        "chart".into()
    } else {
        words.join("-")
    }
}

/// The chart `id`'s SVG as a stand-alone document, from the page.
fn chart_svg(id: &str, title: &str, size: (f64, f64), legend: &[(String, usize)]) -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let svg = doc.query_selector(&format!("#{id} svg")).ok()??;
    let inner = svg.outer_html().replacen("<svg", r#"<svg xmlns="http://www.w3.org/2000/svg""#, 1);
    Some(standalone_svg(title, &inner, size.0, size.1, legend))
}

/// Draw the SVG on a canvas at twice its size and download that as PNG.
fn download_png(svg: String, name: String, size: (f64, f64), keys: usize) -> Result<(), JsValue> {
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let img: web_sys::HtmlImageElement = doc.create_element("img")?.dyn_into()?;
    let (w, h) = (size.0, standalone_height(size.1, keys));
    let drawn = img.clone();
    let onload = Closure::once(move || -> Result<(), JsValue> {
        let canvas: web_sys::HtmlCanvasElement = doc.create_element("canvas")?.dyn_into()?;
        canvas.set_width((2.0 * w) as u32);
        canvas.set_height((2.0 * h) as u32);
        let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
        ctx.scale(2.0, 2.0)?;
        ctx.draw_image_with_html_image_element_and_dw_and_dh(&drawn, 0.0, 0.0, w, h)?;
        let a: web_sys::HtmlAnchorElement = doc.create_element("a")?.dyn_into()?;
        a.set_href(&canvas.to_data_url_with_type("image/png")?);
        a.set_download(&name);
        a.click();
        Ok(())
    });
    img.set_onload(Some(onload.as_ref().unchecked_ref()));
    onload.forget();
    img.set_src(&format!("data:image/svg+xml;charset=utf-8,{}", String::from(js_sys::encode_uri_component(&svg))));
    Ok(())
}

/// A chart's data as an HTML table (`{id}-table`): first column as row headers.
fn table_view(id: &str, table: &ChartTable) -> impl IntoView {
    let head = table.columns.iter().map(|c| view! { <th scope="col">{c.clone()}</th> }).collect_view();
    let body = table
        .rows
        .iter()
        .map(|r| {
            let mut cells = r.iter().cloned();
            let first = cells.next().unwrap_or_default();
            let rest = cells.map(|c| view! { <td class="num">{c}</td> }).collect_view();
            view! { <tr><th scope="row">{first}</th>{rest}</tr> }
        })
        .collect_view();
    view! {
        <div class="scroll" tabindex="0"><table id=format!("{id}-table")><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>
    }
}

/// "Show as a table" and the two downloads, under a chart.
#[component]
pub fn ChartTools(
    /// The chart's element id: the table is `{id}-table`.
    id: &'static str,
    title: String,
    table: ChartTable,
    /// The chart's drawing size (its viewBox).
    size: (f64, f64),
    /// Legend keys for the downloads: (name, colour index).
    #[prop(optional)]
    legend: Vec<(String, usize)>,
) -> impl IntoView {
    let stem = file_stem(&title);
    let (svg_title, svg_legend, svg_stem) = (title.clone(), legend.clone(), stem.clone());
    let svg = move |_| {
        if let Some(text) = chart_svg(id, &svg_title, size, &svg_legend) {
            let _ = download(&format!("{svg_stem}.svg"), &text);
        }
    };
    let png = move |_| {
        if let Some(text) = chart_svg(id, &title, size, &legend) {
            let _ = download_png(text, format!("{stem}.png"), size, legend.len());
        }
    };
    // The table is built when first opened: most are never looked at, and building every chart's
    // table with its chart doubled the nodes a result's render creates in one task.
    let opened = RwSignal::new(false);
    let table = StoredValue::new(table);
    let on_toggle = move |ev: leptos::ev::Event| {
        let details = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlDetailsElement>(t).ok());
        if details.is_some_and(|d| d.open()) {
            opened.set(true);
        }
    };
    view! {
        <div class="chart-tools">
            <details id=format!("{id}-details") on:toggle=on_toggle>
                <summary>"Show as a table"</summary>
                {move || opened.get().then(|| table.with_value(|t| table_view(id, t)))}
            </details>
            <button class="button secondary chart-svg" on:click=svg>"Download SVG"</button>
            <button class="button secondary chart-png" on:click=png>"Download PNG"</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_table_formats_each_column_alike() {
        let t = ChartTable::new(
            "week".into(),
            vec!["1".into(), "2".into()],
            vec![
                ("purchases".into(), vec![1200.0, 3.0]),
                ("mean".into(), vec![0.5, 2.0]),
                ("forecast".into(), vec![f64::NAN, 2.0]),
            ],
        );
        assert_eq!(t.columns, ["week", "purchases", "mean", "forecast"]);
        assert_eq!(t.rows, [["1", "1,200", "0.5000", ""], ["2", "3", "2.0000", "2"]]);
    }

    #[test]
    fn a_downloaded_svg_stands_alone() {
        let s = standalone_svg(
            "Sales & <returns>",
            r#"<svg viewBox="0 0 640 280"><path/></svg>"#,
            640.0,
            280.0,
            &[("a".into(), 1)],
        );
        assert!(s.starts_with("<?xml") && s.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
        assert!(s.contains("Sales &amp; &lt;returns&gt;") && s.contains("<style>.grid"));
        assert!(s.contains(r#"<svg x="0" y="28" width="640" height="280" viewBox="0 0 640 280">"#), "{s}");
        // Title, chart, one legend row: 28 + 280 + 20 + 8.
        assert!(s.contains(r#"height="336" viewBox="0 0 640 336""#) && s.contains("#2f5bd3"));
        assert_eq!(file_stem("Purchases per week, from 1997-01-06"), "purchases-per-week-from-1997-01-06");
        assert_eq!(file_stem("—"), "chart");
    }
}
