//! Small SVG charts. The geometry is pure functions (tested natively); the
//! components only place the strings. No chart crate: plotters measures
//! text through the DOM and the charting crates pull a second framework.

use super::chart_tools::{ChartTable, ChartTools};
use super::format;
use clv_core::time::Day;
use leptos::prelude::*;

pub const PALETTE: [&str; 5] = ["#1d2330", "#2f5bd3", "#d9822b", "#1b7f3b", "#8e44ad"];

/// Legend swatch class (`c0`…`c4` in style.css: the CSP forbids inline styles).
fn swatch(i: usize) -> String {
    format!("c{}", i % PALETTE.len())
}

/// The smallest of 1, 2, 5 × 10ᵏ that is ≥ v.
fn nice_step(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let k = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * k).find(|&m| m >= v * (1.0 - 1e-12)).unwrap_or(10.0 * k)
}

/// The axis maximum for values up to `v`: a whole number of round steps (1, 2, 5 × 10ᵏ), at
/// most four, so every grid line is at a round value. [`ticks`] of the result finds the same
/// step: the step is the smallest round value ≥ v/4, and the maximum lies in (v, 4 steps].
pub fn nice_max(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let step = nice_step(v / 4.0);
    (v / step * (1.0 - 1e-12)).ceil().max(1.0) * step
}

/// Plot area of a chart: pixel size and data ranges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub bottom: f64,
    pub x_max: f64,
    pub y_max: f64,
}

impl Frame {
    pub const TOP: f64 = 10.0;
    pub const RIGHT: f64 = 10.0;

    pub fn x(&self, v: f64) -> f64 {
        self.left + (self.width - self.left - Self::RIGHT) * v / self.x_max
    }

    pub fn y(&self, v: f64) -> f64 {
        self.height - self.bottom - (self.height - self.bottom - Self::TOP) * v / self.y_max
    }

    /// SVG path through (1, v₁), (2, v₂), … (x = period number).
    pub fn path(&self, values: &[f64]) -> String {
        self.path_from(0, values)
    }

    /// A polyline with the first value at x = `offset` + 1.
    pub fn path_from(&self, offset: usize, values: &[f64]) -> String {
        self.path_at((offset + 1) as f64, values)
    }

    /// A polyline with the first value at x = `start`, one step per value.
    pub fn path_at(&self, start: f64, values: &[f64]) -> String {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let x = self.x(start + i as f64);
                format!("{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x, self.y(*v))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Ticks at round values from 0 to `max` (a [`nice_max`]): 2 to 5 of them.
pub fn ticks(max: f64) -> Vec<f64> {
    let step = nice_step(max / 4.0);
    let n = (max / step * (1.0 + 1e-12)).floor() as usize;
    (0..=n).map(|k| k as f64 * step).collect()
}

fn label(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Horizontal grid lines with their value labels.
fn y_grid(f: &Frame) -> impl IntoView {
    let f = *f;
    ticks(f.y_max)
        .into_iter()
        .map(|t| {
            view! {
                <line x1=f.left y1=f.y(t) x2=f.width - Frame::RIGHT y2=f.y(t) class="grid" />
                <text x=f.left - 6.0 y=f.y(t) + 4.0 text-anchor="end" class="tick">{label(t)}</text>
            }
        })
        .collect_view()
}

/// Lines over periods 1..n with a legend; `series`: (name, values);
/// `marker`: a labelled vertical line at that period (e.g. the cutoff);
/// `paired`: the series come as (observed, model) pairs, a pair in one
/// colour with the model's line dashed.
#[component]
pub fn LineChart(
    id: &'static str,
    /// What the chart shows, in words: its accessible name and the downloads' title.
    title: String,
    series: Vec<(String, Vec<f64>)>,
    x_label: String,
    y_label: String,
    #[prop(optional)] marker: Option<(f64, &'static str)>,
    #[prop(optional)] paired: bool,
    /// The first value is at x = 0 (an age), not period 1.
    #[prop(optional)]
    from_zero: bool,
) -> impl IntoView {
    let start = if from_zero { 0.0 } else { 1.0 };
    let colour = move |i: usize| if paired { i / 2 } else { i };
    let dash = move |i: usize| (paired && i % 2 == 1).then_some("6 4");
    let n = series.iter().map(|(_, v)| v.len()).max().unwrap_or(1).max(1);
    let top = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
    let x_max = (start + n as f64 - 1.0).max(1.0);
    let f = Frame { width: 640.0, height: 280.0, left: 56.0, bottom: 36.0, x_max, y_max: nice_max(top) };
    let grid = y_grid(&f);
    // Ticks at whole periods, about four of them.
    let step = (x_max / 4.0).ceil().max(1.0);
    let xt = (0..)
        .map(|k| k as f64 * step)
        .take_while(|t| *t <= x_max)
        .filter(|t| *t >= start)
        .map(|t| view! { <text x=f.x(t) y=f.height - f.bottom + 16.0 text-anchor="middle" class="tick">{format!("{t:.0}")}</text> })
        .collect_view();
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, (_, v))| view! { <path d=f.path_at(start, v) stroke=PALETTE[colour(i) % PALETTE.len()] stroke-dasharray=dash(i) class="line" /> })
        .collect_view();
    let legend = series
        .iter()
        .enumerate()
        .map(|(i, (name, _))| view! { <span class="key"><i class=swatch(colour(i))></i>{name.clone()}</span> })
        .collect_view();
    let keys: Vec<(String, usize)> =
        series.iter().enumerate().map(|(i, (name, _))| (name.clone(), colour(i))).collect();
    let first = if from_zero { 0 } else { 1 };
    let table = ChartTable::new(x_label.clone(), (first..first + n).map(|p| p.to_string()).collect(), series.clone());
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {grid}
                {xt}
                {lines}
                {marker.map(|(at, label)| view! {
                    <line x1=f.x(at) x2=f.x(at) y1=f.y(f.y_max) y2=f.y(0.0) class="marker" stroke-dasharray="4 3" />
                    // Near the right edge the label goes to the line's left, inside the chart.
                    {if f.x(at) > f.width - 80.0 {
                        view! { <text x=f.x(at) - 4.0 y=f.y(f.y_max) + 12.0 text-anchor="end" class="tick">{label}</text> }.into_any()
                    } else {
                        view! { <text x=f.x(at) + 4.0 y=f.y(f.y_max) + 12.0 class="tick">{label}</text> }.into_any()
                    }}
                })}
                <text x=f.width / 2.0 y=f.height - 4.0 text-anchor="middle" class="axis">{x_label}</text>
                <text x=12 y=f.height / 2.0 text-anchor="middle" class="axis" transform=format!("rotate(-90 12 {})", f.height / 2.0)>{y_label}</text>
            </svg>
            <figcaption class="legend">{legend}</figcaption>
            <ChartTools id title table size=(f.width, f.height) legend=keys />
        </figure>
    }
}

/// A probability density over a continuous x from 0 (the lesson's purchase rates and dropout
/// probabilities), with its median marked. The y axis is scaled to the density away from the left
/// edge: where it is infinite at 0 (a gamma shape below 1) the curve leaves the top, clipped.
#[component]
pub fn DensityChart(
    id: &'static str,
    title: String,
    x: Vec<f64>,
    density: Vec<f64>,
    median: f64,
    x_label: String,
    /// Tick labels for x (e.g. "0.25" or "25%").
    x_tick: fn(f64) -> String,
    /// The largest x drawn (1 for probabilities).
    x_max: f64,
) -> impl IntoView {
    let body = x.iter().zip(&density).filter(|(x, _)| **x >= x_max / 20.0).map(|(_, d)| *d).fold(0.0, f64::max);
    let f = Frame { width: 360.0, height: 240.0, left: 56.0, bottom: 40.0, x_max, y_max: nice_max(body * 1.05) };
    let clip = format!("{id}-clip");
    let path = x
        .iter()
        .zip(&density)
        .enumerate()
        .map(|(i, (&x, &d))| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { " L" }, f.x(x), f.y(d)))
        .collect::<String>();
    let grid = y_grid(&f);
    let xt = ticks(x_max)
        .into_iter()
        .map(|t| view! { <text x=f.x(t) y=f.height - f.bottom + 16.0 text-anchor={if t >= x_max { "end" } else { "middle" }} class="tick">{x_tick(t)}</text> })
        .collect_view();
    let table = ChartTable::new(
        x_label.clone(),
        x.iter().map(|v| x_tick(*v)).collect(),
        vec![("density".into(), density.clone())],
    );
    view! {
        <figure class="chart curve" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                <defs><clipPath id=clip.clone()><rect x=f.left y=Frame::TOP width=f.width - f.left - Frame::RIGHT height=f.height - f.bottom - Frame::TOP /></clipPath></defs>
                {grid}{xt}
                <path d=path class="line" stroke=PALETTE[1] clip-path=format!("url(#{clip})") />
                <line x1=f.x(median) x2=f.x(median) y1=f.y(f.y_max) y2=f.y(0.0) class="marker" stroke-dasharray="4 3" />
                <text x=f.x(median) + 4.0 y=f.y(f.y_max) + 12.0 class="tick">{format!("median {}", x_tick(median))}</text>
                <text x=f.width / 2.0 y=f.height - 4.0 text-anchor="middle" class="axis">{x_label}</text>
                <text x=12 y=f.height / 2.0 text-anchor="middle" class="axis" transform=format!("rotate(-90 12 {})", f.height / 2.0)>"density"</text>
            </svg>
            <ChartTools id title table size=(f.width, f.height) />
        </figure>
    }
}

/// Closed polygon between `lower` and `upper`, the first value at x = `offset` + 1.
pub fn band_path(f: &Frame, offset: usize, lower: &[f64], upper: &[f64]) -> String {
    let pt = |i: usize, v: f64| format!("{:.1},{:.1}", f.x((offset + i + 1) as f64), f.y(v));
    let top: Vec<String> = upper.iter().enumerate().map(|(i, v)| pt(i, *v)).collect();
    let bottom: Vec<String> = lower.iter().enumerate().rev().map(|(i, v)| pt(i, *v)).collect();
    if top.is_empty() {
        return String::new();
    }
    format!("M{} L{} Z", top.join(" L"), bottom.join(" L"))
}

/// A history line, then a forecast line with its prediction band.
#[component]
pub fn BandChart(
    id: &'static str,
    title: String,
    history: Vec<f64>,
    mean: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    x_label: String,
    y_label: String,
    band_label: String,
    /// The day of the first value (one value per day): the x axis then has date ticks.
    #[prop(default = None)]
    start: Option<Day>,
) -> impl IntoView {
    let n = history.len() + mean.len();
    let top = history.iter().chain(&upper).copied().fold(0.0, f64::max);
    let f =
        Frame { width: 640.0, height: 260.0, left: 56.0, bottom: 36.0, x_max: n.max(1) as f64, y_max: nice_max(top) };
    let grid = y_grid(&f);
    // The forecast line starts from the last observed point, so the two join.
    let mut joined: Vec<f64> = history.last().copied().into_iter().collect();
    joined.extend(&mean);
    let forecast_line = f.path_from(history.len().saturating_sub(1), &joined);
    // Observed up to the cutoff, then the forecast and its band (blank where a column has no value).
    let pad =
        |before: usize, v: &[f64]| std::iter::repeat_n(f64::NAN, before).chain(v.iter().copied()).collect::<Vec<f64>>();
    let date = move |p: usize| start.and_then(|s| Day::from_number(s.number() + p as i64 - 1));
    let xt = date(1).map(|_| {
        let step = n.div_ceil(4).max(1);
        (1..=n)
            .step_by(step)
            .filter_map(|p| date(p).map(|d| (p, d)))
            .map(|(p, d)| view! { <text x=f.x(p as f64) y=f.height - f.bottom + 16.0 text-anchor="middle" class="tick">{d.to_string()}</text> })
            .collect_view()
    });
    let table = ChartTable::new(
        if start.is_some() { "date".to_string() } else { x_label.clone() },
        (1..=n).map(|p| date(p).map_or(p.to_string(), |d| d.to_string())).collect(),
        vec![
            ("observed".into(), history.clone()),
            ("forecast".into(), pad(history.len(), &mean)),
            (format!("{band_label}, lower"), pad(history.len(), &lower)),
            (format!("{band_label}, upper"), pad(history.len(), &upper)),
        ],
    );
    let keys = vec![("observed".to_string(), 0), ("forecast".to_string(), 1)];
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {grid}
                {xt}
                <path d=band_path(&f, history.len(), &lower, &upper) class="band" />
                <path d=f.path(&history) stroke=PALETTE[0] class="line" />
                <path d=forecast_line stroke=PALETTE[1] class="line dashed" />
                <line x1=f.x(history.len() as f64) y1=f.y(0.0) x2=f.x(history.len() as f64) y2=f.y(f.y_max) class="grid" />
                <text x=f.width / 2.0 y=f.height - 4.0 text-anchor="middle" class="axis">{x_label}</text>
                <text x=12 y=f.height / 2.0 text-anchor="middle" class="axis" transform=format!("rotate(-90 12 {})", f.height / 2.0)>{y_label}</text>
            </svg>
            <figcaption class="legend">
                <span class="key"><i class=swatch(0)></i>"observed"</span>
                <span class="key"><i class=swatch(1)></i>"forecast"</span>
                <span class="key"><i class="band-key"></i>{band_label}</span>
            </figcaption>
            <ChartTools id title table size=(f.width, f.height) legend=keys />
        </figure>
    }
}

/// The frame of a bar chart of `n` groups up to `top`, and each group's width in pixels.
fn bar_frame(n: usize, top: f64, height: f64, bottom: f64) -> (Frame, f64) {
    let n = n.max(1) as f64;
    let f = Frame { width: 640.0, height, left: 56.0, bottom, x_max: n, y_max: nice_max(top) };
    (f, (f.width - f.left - Frame::RIGHT) / n)
}

/// Paired bars per group (e.g. predicted vs actual by decile).
#[component]
pub fn PairedBars(
    id: &'static str,
    title: String,
    /// What the groups are (the table's first column).
    group_label: String,
    groups: Vec<(String, f64, f64)>,
    names: (String, String),
) -> impl IntoView {
    let (f, slot) = bar_frame(groups.len(), groups.iter().map(|g| g.1.max(g.2)).fold(0.0, f64::max), 256.0, 40.0);
    let bars = groups
        .iter()
        .enumerate()
        .map(|(i, (name, a, b))| {
            let x0 = f.left + slot * i as f64 + slot * 0.15;
            let w = slot * 0.35;
            view! {
                <rect x=x0 y=f.y(*a) width=w height=f.y(0.0) - f.y(*a) fill=PALETTE[1] />
                <rect x=x0 + w y=f.y(*b) width=w height=f.y(0.0) - f.y(*b) fill=PALETTE[2] />
                <text x=x0 + w y=f.height - f.bottom + 16.0 text-anchor="middle" class="tick">{name.clone()}</text>
            }
        })
        .collect_view();
    let grid = y_grid(&f);
    let table = ChartTable::new(
        group_label,
        groups.iter().map(|g| g.0.clone()).collect(),
        vec![
            (names.0.clone(), groups.iter().map(|g| g.1).collect()),
            (names.1.clone(), groups.iter().map(|g| g.2).collect()),
        ],
    );
    let keys = vec![(names.0.clone(), 1), (names.1.clone(), 2)];
    let axis = table.columns[0].clone();
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>{grid}{bars}
                <text x=f.width / 2.0 y=f.height - 4.0 text-anchor="middle" class="axis">{axis}</text>
            </svg>
            <figcaption class="legend">
                <span class="key"><i class=swatch(1)></i>{names.0}</span>
                <span class="key"><i class=swatch(2)></i>{names.1}</span>
            </figcaption>
            <ChartTools id title table size=(f.width, f.height) legend=keys />
        </figure>
    }
}

/// One bar per group, labelled below (every `label_every`-th label, so many bars stay readable).
#[component]
pub fn Bars(
    id: &'static str,
    title: String,
    bars: Vec<(String, f64)>,
    x_label: String,
    y_label: String,
    #[prop(default = 1)] label_every: usize,
) -> impl IntoView {
    let (f, slot) = bar_frame(bars.len(), bars.iter().map(|b| b.1).fold(0.0, f64::max), 260.0, 40.0);
    let rects = bars
        .iter()
        .enumerate()
        .map(|(i, (name, v))| {
            let x0 = f.left + slot * i as f64 + slot * 0.1;
            let label = (i % label_every.max(1) == 0).then(|| {
                view! { <text x=x0 + slot * 0.4 y=f.height - f.bottom + 14.0 text-anchor="middle" class="tick">{name.clone()}</text> }
            });
            view! { <rect x=x0 y=f.y(*v) width=slot * 0.8 height=f.y(0.0) - f.y(*v) fill=PALETTE[1]><title>{format!("{name}: {v}")}</title></rect>{label} }
        })
        .collect_view();
    let grid = y_grid(&f);
    let table = ChartTable::new(
        x_label.clone(),
        bars.iter().map(|b| b.0.clone()).collect(),
        vec![(y_label.clone(), bars.iter().map(|b| b.1).collect())],
    );
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {grid}{rects}
                <text x=f.width / 2.0 y=f.height - 4.0 text-anchor="middle" class="axis">{x_label}</text>
                <text x=12 y=f.height / 2.0 text-anchor="middle" class="axis" transform=format!("rotate(-90 12 {})", f.height / 2.0)>{y_label.clone()}</text>
            </svg>
            <ChartTools id title table size=(f.width, f.height) />
        </figure>
    }
}

/// A curve through `points` with x and y in [0, 1], beside the diagonal y = x (a Lorenz curve).
#[component]
pub fn CurveChart(
    id: &'static str,
    title: String,
    points: Vec<(f64, f64)>,
    x_label: String,
    y_label: String,
) -> impl IntoView {
    let f = Frame { width: 360.0, height: 320.0, left: 56.0, bottom: 40.0, x_max: 1.0, y_max: 1.0 };
    let path = points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { " L" }, f.x(x), f.y(y)))
        .collect::<String>();
    let grid = y_grid(&f);
    let xt = ticks(1.0)
        .into_iter()
        .map(|t| view! { <text x=f.x(t) y=f.height - f.bottom + 16.0 text-anchor={if t >= 1.0 { "end" } else { "middle" }} class="tick">{format!("{:.0}%", 100.0 * t)}</text> })
        .collect_view();
    let table = ChartTable::new(
        x_label.clone(),
        points.iter().map(|p| format!("{:.1}%", 100.0 * p.0)).collect(),
        vec![(y_label.clone(), points.iter().map(|p| p.1).collect())],
    );
    view! {
        <figure class="chart curve" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {grid}{xt}
                <path d=format!("M{:.1},{:.1} L{:.1},{:.1}", f.x(0.0), f.y(0.0), f.x(1.0), f.y(1.0)) stroke=PALETTE[0] stroke-dasharray="4 3" class="line" />
                <path d=path stroke=PALETTE[1] class="line" />
                <text x=f.width / 2.0 y=f.height - 4.0 text-anchor="middle" class="axis">{x_label}</text>
                <text x=12 y=f.height / 2.0 text-anchor="middle" class="axis" transform=format!("rotate(-90 12 {})", f.height / 2.0)>{y_label.clone()}</text>
            </svg>
            <ChartTools id title table size=(f.width, f.height) legend=vec![("equal shares".to_string(), 0), ("your customers".to_string(), 1)] />
        </figure>
    }
}

/// One customer over time: P(alive) along their history (solid to the cutoff, dashed after it,
/// where it assumes no purchase) and their purchase days as dots (hollow after the cutoff: in
/// the file, not used by the model). Dates on the x axis.
#[component]
pub fn AlivePathChart(
    id: &'static str,
    title: String,
    path: Vec<(Day, f64)>,
    purchases: Vec<(Day, f64, bool)>,
    cutoff: Day,
) -> impl IntoView {
    let first = path.first().map_or(cutoff.number(), |p| p.0.number());
    let last = path.iter().map(|p| p.0.number()).chain(purchases.iter().map(|p| p.0.number())).max().unwrap_or(first);
    let f = Frame {
        width: 640.0,
        height: 240.0,
        left: 56.0,
        bottom: 36.0,
        x_max: (last - first).max(1) as f64,
        y_max: 1.0,
    };
    let x = move |d: Day| f.x((d.number() - first) as f64);
    let line = |pts: &[(Day, f64)]| {
        pts.iter()
            .enumerate()
            .map(|(i, (d, p))| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { " L" }, x(*d), f.y(*p)))
            .collect::<String>()
    };
    let split = path.partition_point(|p| p.0 <= cutoff);
    let (before, after) = (line(&path[..split]), line(&path[split.saturating_sub(1)..]));
    let dots = purchases
        .iter()
        .map(|(d, amount, later)| {
            let hover = format!("{d}: purchase of {}{}", format::money(*amount), if *later { " (after the cutoff: not used)" } else { "" });
            view! { <circle cx=x(*d) cy=f.y(0.0) - 8.0 r=4.5 class=if *later { "purchase later" } else { "purchase" }><title>{hover}</title></circle> }
        })
        .collect_view();
    // The last date ends at the right edge, inside the picture.
    let xt = (0..=3)
        .filter_map(|k| Day::from_number(first + (last - first) * k / 3).map(|d| (k, d)))
        .map(|(k, d)| {
            let anchor = if k == 3 { "end" } else { "middle" };
            view! { <text x=x(d) y=f.height - f.bottom + 16.0 text-anchor=anchor class="tick">{d.to_string()}</text> }
        })
        .collect_view();
    let grid = y_grid(&f);
    let table = ChartTable {
        columns: vec!["date".into(), "P(alive)".into(), "purchase".into()],
        rows: path
            .iter()
            .map(|(d, p)| {
                let bought = purchases.iter().find(|q| q.0 == *d).map_or(String::new(), |q| format::money(q.1));
                vec![d.to_string(), format::fixed(*p, 4), bought]
            })
            .collect(),
    };
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {grid}{xt}
                <path d=before stroke=PALETTE[1] class="line" />
                <path d=after stroke=PALETTE[1] class="line dashed" />
                <line x1=x(cutoff) x2=x(cutoff) y1=f.y(1.0) y2=f.y(0.0) class="marker" stroke-dasharray="4 3" />
                <text x=x(cutoff) - 4.0 y=f.y(1.0) + 12.0 text-anchor="end" class="tick">"cutoff"</text>
                {dots}
                <text x=12 y=f.height / 2.0 text-anchor="middle" class="axis" transform=format!("rotate(-90 12 {})", f.height / 2.0)>"P(alive)"</text>
            </svg>
            <figcaption class="legend">
                <span class="key"><i class="c1"></i>"P(alive) — dashed: after the cutoff, if they buy nothing"</span>
                <span class="key"><i class="c2"></i>"a purchase day (hollow: after the cutoff)"</span>
            </figcaption>
            <ChartTools id title table size=(f.width, f.height) legend=vec![("P(alive)".to_string(), 1), ("purchase".to_string(), 2)] />
        </figure>
    }
}

/// Customers one per row, each purchase a dot on a shared time axis (weeks from 0 to `weeks`): the
/// lesson's simulated base as a teacher draws it on the board. The first dot is when they joined.
#[component]
pub fn Timelines(id: &'static str, title: String, rows: Vec<Vec<f64>>, weeks: f64) -> impl IntoView {
    let row_height = 14.0;
    let f = Frame {
        width: 640.0,
        height: 36.0 + 8.0 + row_height * rows.len().max(1) as f64,
        left: 56.0,
        bottom: 36.0,
        x_max: weeks.max(1.0),
        y_max: 1.0,
    };
    let y = move |i: usize| 8.0 + row_height * (i as f64 + 0.5);
    let dots = rows
        .iter()
        .enumerate()
        .map(|(i, days)| {
            let line = days.first().zip(days.last()).map(|(a, b)| {
                view! { <line x1=f.x(*a) x2=f.x(*b) y1=y(i) y2=y(i) class="timeline" /> }
            });
            let marks = days
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    let class = if k == 0 { "purchase joined" } else { "purchase" };
                    view! { <circle cx=f.x(*w) cy=y(i) r=3.5 class=class /> }
                })
                .collect_view();
            view! { {line}{marks} }
        })
        .collect_view();
    let step = (weeks / 4.0).ceil().max(1.0);
    let xt = (0..)
        .map(|k| k as f64 * step)
        .take_while(|t| *t <= weeks)
        .map(|t| view! { <text x=f.x(t) y=f.height - f.bottom + 16.0 text-anchor="middle" class="tick">{format!("{t:.0}")}</text> })
        .collect_view();
    let table = ChartTable {
        columns: vec!["customer".into(), "joined (week)".into(), "repeat purchases (weeks)".into()],
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, days)| {
                let week = |w: &f64| format::trimmed(*w, 1);
                let repeats = days.iter().skip(1).map(week).collect::<Vec<_>>().join(", ");
                vec![(i + 1).to_string(), days.first().map(week).unwrap_or_default(), repeats]
            })
            .collect(),
    };
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {} {}", f.width, f.height) role="img" aria-label=title.clone()>
                <title>{title.clone()}</title>
                {dots}{xt}
                <text x=f.width / 2.0 y=f.height - 4.0 text-anchor="middle" class="axis">"weeks since the first customer joined"</text>
            </svg>
            <figcaption class="legend">
                <span class="key"><i class="c1"></i>"joined (first purchase)"</span>
                <span class="key"><i class="c2"></i>"bought again"</span>
            </figcaption>
            <ChartTools id title table size=(f.width, f.height) legend=vec![("joined".to_string(), 1), ("bought again".to_string(), 2)] />
        </figure>
    }
}

/// The fill of a heat-map cell at `share` (0 … 1) of the scale: white to the accent blue to
/// navy, so both ends stay readable.
pub fn heat_colour(share: f64) -> String {
    let s = if share.is_finite() { share.clamp(0.0, 1.0) } else { 0.0 };
    let (from, to, t) = if s < 0.6 {
        ([244.0, 247.0, 253.0], [47.0, 91.0, 211.0], s / 0.6)
    } else {
        ([47.0, 91.0, 211.0], [19.0, 35.0, 90.0], (s - 0.6) / 0.4)
    };
    let c: Vec<u8> = from.iter().zip(to).map(|(a, b)| (a + (b - a) * t).round() as u8).collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Colour steps of a heat map: 1/32 of the scale apart, finer than the eye tells apart.
const HEAT_STEPS: f64 = 32.0;

/// The cells of `values[row][col]` grouped by colour (the share of `scale` rounded to a
/// [`HEAT_STEPS`] step, then [`heat_colour`]), lightest first: each group is drawn as one path.
fn heat_cells(values: &[Vec<f64>], scale: f64) -> Vec<(String, Vec<(usize, usize)>)> {
    let mut groups: std::collections::BTreeMap<u32, Vec<(usize, usize)>> = Default::default();
    for (i, row) in values.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let share = if v.is_finite() { (v / scale).clamp(0.0, 1.0) } else { 0.0 };
            groups.entry((share * HEAT_STEPS).round() as u32).or_default().push((i, j));
        }
    }
    groups.into_iter().map(|(step, at)| (heat_colour(f64::from(step) / HEAT_STEPS), at)).collect()
}

/// Where the value crosses `level` between neighbouring cells of `values[row][col]`: each edge as
/// (row, col, vertical) — vertical: between (row, col) and (row, col + 1); else between (row, col)
/// and (row + 1, col). Drawn along the cell edges, these are the iso-value lines.
pub fn contour_edges(values: &[Vec<f64>], level: f64) -> Vec<(usize, usize, bool)> {
    let crosses =
        |a: f64, b: f64| (a - level) * (b - level) < 0.0 || (a < level && b == level) || (a == level && b < level);
    let mut edges = Vec::new();
    for (i, row) in values.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if row.get(j + 1).is_some_and(|&w| crosses(v, w)) {
                edges.push((i, j, true));
            }
            if values.get(i + 1).and_then(|r| r.get(j)).is_some_and(|&w| crosses(v, w)) {
                edges.push((i, j, false));
            }
        }
    }
    edges
}

/// A heat map of `values[row][col]`, row 0 at the bottom, with iso-value lines along the cell
/// edges at `levels`; each cell says its value on hover (a `<title>`).
#[component]
pub fn HeatMap(
    id: &'static str,
    title: String,
    values: Vec<Vec<f64>>,
    row_labels: Vec<String>,
    col_labels: Vec<String>,
    x_label: String,
    y_label: String,
    /// What a cell's value is, for hover text and the table ("P(alive)").
    value_label: String,
    /// The value of the darkest colour.
    max: f64,
    levels: Vec<f64>,
) -> impl IntoView {
    let (width, height, left, bottom) = (640.0, 320.0, 56.0, 40.0);
    let (rows, cols) = (values.len().max(1), values.first().map_or(1, Vec::len).max(1));
    let (cw, ch) = ((width - left - Frame::RIGHT) / cols as f64, (height - bottom - Frame::TOP) / rows as f64);
    let x0 = move |j: usize| left + cw * j as f64;
    let y0 = move |i: usize| height - bottom - ch * (i + 1) as f64;
    let scale = if max > 0.0 && max.is_finite() { max } else { 1.0 };
    // One path per colour step, no per-cell node: two heat maps of 31 × 21 cells as rects were
    // ~2,600 nodes (~13k attribute strings) built in one 55 ms task; the value under the pointer
    // is read out below the chart instead of a per-cell <title>.
    let cells = heat_cells(&values, scale)
        .into_iter()
        .map(|(colour, at)| {
            let d: String = at
                .into_iter()
                .map(|(i, j)| format!("M{:.1} {:.1}h{:.1}v{:.1}h{:.1}z", x0(j), y0(i), cw + 0.5, ch + 0.5, -(cw + 0.5)))
                .collect();
            view! { <path class="cells" d=d fill=colour /> }
        })
        .collect_view();
    // Each level's cell edges as one path.
    let lines = levels
        .iter()
        .map(|&l| {
            let d: String = contour_edges(&values, l)
                .into_iter()
                .map(|(i, j, vertical)| {
                    let (x1, y1, x2, y2) = if vertical {
                        (x0(j + 1), y0(i), x0(j + 1), y0(i) + ch)
                    } else {
                        (x0(j), y0(i), x0(j) + cw, y0(i))
                    };
                    format!("M{x1:.1} {y1:.1}L{x2:.1} {y2:.1}")
                })
                .collect();
            (!d.is_empty()).then(|| view! { <path d=d class="contour" /> })
        })
        .collect_view();
    let readout = RwSignal::new(None::<String>);
    let grid = HeatGrid { width, height, left, bottom, rows, cols };
    let (hover_values, hover_rows, hover_cols) = (values.clone(), row_labels.clone(), col_labels.clone());
    let (hover_x, hover_y, hover_value) = (x_label.clone(), y_label.clone(), value_label.clone());
    let on_move = move |ev: web_sys::MouseEvent| {
        let target = ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok());
        let Some(svg) = target else { return };
        let r = svg.get_bounding_client_rect();
        let at = (f64::from(ev.client_x()) - r.left(), f64::from(ev.client_y()) - r.top());
        readout.set(grid.cell(at, (r.width(), r.height())).map(|(i, j)| {
            let v = hover_values[i][j];
            format!("{hover_y} {}, {hover_x} {}: {hover_value} {}", hover_rows[i], hover_cols[j], format::grouped(v, 3))
        }));
    };
    let every = |n: usize| n.div_ceil(6).max(1);
    let xt = (0..cols)
        .step_by(every(cols))
        .map(|j| view! { <text x=x0(j) + cw / 2.0 y=height - bottom + 14.0 text-anchor="middle" class="tick">{col_labels[j].clone()}</text> })
        .collect_view();
    let yt = (0..rows)
        .step_by(every(rows))
        .map(|i| view! { <text x=left - 6.0 y=y0(i) + ch / 2.0 + 4.0 text-anchor="end" class="tick">{row_labels[i].clone()}</text> })
        .collect_view();
    // Rows as drawn (one per row label), one column per column label.
    let series = (0..cols).map(|j| (col_labels[j].clone(), values.iter().map(|r| r[j]).collect())).collect();
    let table = ChartTable::new(format!("{y_label} ↓ / {x_label} →"), row_labels.clone(), series);
    let level_words = levels.iter().map(|l| format::grouped(*l, 2)).collect::<Vec<_>>().join(", ");
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {width} {height}") role="img" aria-label=title.clone() on:mousemove=on_move on:mouseleave=move |_| readout.set(None)>
                <title>{title.clone()}</title>
                {cells}{lines}{xt}{yt}
                <text x=width / 2.0 y=height - 4.0 text-anchor="middle" class="axis">{x_label.clone()}</text>
                <text x=12 y=height / 2.0 text-anchor="middle" class="axis" transform=format!("rotate(-90 12 {})", height / 2.0)>{y_label.clone()}</text>
            </svg>
            <figcaption class="legend">
                <span class="key"><i class="heat-low"></i>{format!("{value_label} 0")}</span>
                <span class="key"><i class="heat-high"></i>{format!("{value_label} {} or more", format::grouped(scale, 2))}</span>
                <span class="key"><i class="contour-key"></i>{format!("lines where it crosses {level_words}")}</span>
            </figcaption>
            <p class="heat-readout" id=format!("{id}-readout")>{move || readout.get().unwrap_or_else(|| "Point at a cell for its value.".into())}</p>
            <ChartTools id title table size=(width, height) />
        </figure>
    }
}

/// Where a heat map's cells are drawn, in its viewBox: to find the cell under the pointer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HeatGrid {
    width: f64,
    height: f64,
    left: f64,
    bottom: f64,
    rows: usize,
    cols: usize,
}

impl HeatGrid {
    /// The (row, column) under a point `at` of the drawing shown `shown` large (CSS pixels);
    /// rows count up from the bottom, as drawn.
    fn cell(&self, at: (f64, f64), shown: (f64, f64)) -> Option<(usize, usize)> {
        if !(shown.0 > 0.0 && shown.1 > 0.0) {
            return None;
        }
        let (x, y) = (at.0 * self.width / shown.0, at.1 * self.height / shown.1);
        let (cw, ch) = (
            (self.width - self.left - Frame::RIGHT) / self.cols as f64,
            (self.height - self.bottom - Frame::TOP) / self.rows as f64,
        );
        let (j, i) = ((x - self.left) / cw, (self.height - self.bottom - y) / ch);
        (j >= 0.0 && i >= 0.0 && (j as usize) < self.cols && (i as usize) < self.rows)
            .then_some((i as usize, j as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cell in exactly one colour group, at most 33 groups, each cell's colour that of its
    /// value rounded to a step (half a step away at most).
    #[test]
    fn heat_cells_group_every_cell_once_by_colour_step() {
        let values: Vec<Vec<f64>> =
            (0..31).map(|i| (0..21).map(|j| f64::from(i * 21 + j) / 650.0 * 2.0).collect()).collect();
        let groups = heat_cells(&values, 2.0);
        assert!(groups.len() <= 33, "{}", groups.len());
        let mut seen: Vec<(usize, usize)> = groups.iter().flat_map(|(_, at)| at.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..31).flat_map(|i| (0..21).map(move |j| (i, j))).collect::<Vec<_>>());
        let (colour, at) = groups.iter().find(|(_, at)| at.contains(&(15, 10))).unwrap();
        let exact = values[15][10] / 2.0;
        assert_eq!(*colour, heat_colour((exact * HEAT_STEPS).round() / HEAT_STEPS));
        assert!(((exact * HEAT_STEPS).round() / HEAT_STEPS - exact).abs() <= 0.5 / HEAT_STEPS);
        assert!(at.len() > 1);
        assert_eq!(groups.first().unwrap().0, heat_colour(0.0));
        assert_eq!(
            heat_cells(&[vec![f64::NAN, 5.0]], 1.0).iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            vec![heat_colour(0.0), heat_colour(1.0)]
        );
    }

    /// The drawing shown at half size: the bottom-left cell is just above the x axis, right of
    /// the y axis; the margins are no cell.
    #[test]
    fn the_cell_under_the_pointer_is_found_at_any_drawn_size() {
        let g = HeatGrid { width: 640.0, height: 320.0, left: 56.0, bottom: 40.0, rows: 4, cols: 10 };
        let half = (320.0, 160.0);
        assert_eq!(g.cell(((56.0 + 1.0) / 2.0, (320.0 - 40.0 - 1.0) / 2.0), half), Some((0, 0)));
        assert_eq!(g.cell(((640.0 - Frame::RIGHT - 1.0) / 2.0, (Frame::TOP + 1.0) / 2.0), half), Some((3, 9)));
        assert_eq!(g.cell((10.0, 80.0), half), None, "left of the y axis");
        assert_eq!(g.cell((100.0, 159.0), half), None, "below the x axis");
        assert_eq!(g.cell((100.0, 80.0), (0.0, 0.0)), None, "not laid out");
    }

    #[test]
    fn heat_colours_run_from_white_to_navy() {
        assert_eq!(heat_colour(0.0), "#f4f7fd");
        assert_eq!(heat_colour(0.6), "#2f5bd3");
        assert_eq!(heat_colour(1.0), "#13235a");
        assert_eq!(heat_colour(f64::NAN), heat_colour(0.0));
        assert_eq!(heat_colour(7.0), heat_colour(1.0));
    }

    /// Hand-drawn: the 0.5 line passes between 0.2 | 0.8 (a vertical edge) and between the rows
    /// where 0.4 lies under 0.6 (a horizontal edge); equal neighbours make no line.
    #[test]
    fn contours_follow_the_cell_edges_where_the_level_is_crossed() {
        let v = vec![vec![0.2, 0.8, 0.9], vec![0.4, 0.9, 0.9], vec![0.6, 0.9, 0.9]];
        assert_eq!(contour_edges(&v, 0.5), vec![(0, 0, true), (1, 0, true), (1, 0, false)]);
        assert!(contour_edges(&v, 0.95).is_empty());
        assert_eq!(contour_edges(&[vec![0.5, 0.4]], 0.5), vec![(0, 0, true)]);
    }

    #[test]
    fn nice_maxima() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(1882.0), 2000.0);
        assert_eq!(nice_max(2000.0), 2000.0);
        assert_eq!(nice_max(0.37), 0.4);
        assert_eq!(nice_max(7.0), 8.0);
        assert_eq!(nice_max(4200.0), 6000.0);
        // Every grid line at a round value: 4,200 purchases a week → 0, 2,000, 4,000, 6,000.
        assert_eq!(ticks(nice_max(4200.0)), vec![0.0, 2000.0, 4000.0, 6000.0]);
        assert_eq!(ticks(1.0), vec![0.0, 0.5, 1.0]);
        for v in [0.013, 0.37, 1.0, 7.0, 99.0, 101.0, 1882.0, 123_456.0] {
            let (max, t) = (nice_max(v), ticks(nice_max(v)));
            assert!(max >= v && *t.last().unwrap() == max && (2..=5).contains(&t.len()), "{v}: {max} {t:?}");
        }
    }

    #[test]
    fn frame_maps_data_to_pixels() {
        let f = Frame { width: 110.0, height: 110.0, left: 0.0, bottom: 0.0, x_max: 2.0, y_max: 10.0 };
        assert_eq!((f.x(0.0), f.x(2.0)), (0.0, 100.0));
        assert_eq!((f.y(0.0), f.y(10.0)), (110.0, 10.0));
        assert_eq!(f.path(&[0.0, 10.0]), "M50.0,110.0 L100.0,10.0");
        assert_eq!(ticks(8.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn band_is_upper_forward_then_lower_back() {
        let f = Frame { width: 110.0, height: 110.0, left: 0.0, bottom: 0.0, x_max: 4.0, y_max: 10.0 };
        // two forecast steps after two observed ones: x = 3 and 4 → 75 and 100 px
        assert_eq!(band_path(&f, 2, &[0.0, 0.0], &[10.0, 5.0]), "M75.0,10.0 L100.0,60.0 L100.0,110.0 L75.0,110.0 Z");
        assert_eq!(band_path(&f, 2, &[], &[]), "");
        assert_eq!(f.path_from(1, &[0.0, 10.0]), "M50.0,110.0 L75.0,10.0");
    }
}
