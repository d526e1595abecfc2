//! Cutoff, horizon and time unit; the BTYD summary they give; exports.

use super::chart_tools::{ChartTable, ChartTools};
use super::charts::{Bars, LineChart, PALETTE};
use super::format;
use super::glossary::{Term, Word};
use super::settings::{data_days, Settings};
use super::{Later, OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{ExportKind, SummaryStats};
use clv_core::features::REPEAT_BINS;
use clv_core::time::Day;
use leptos::prelude::*;

#[component]
pub fn SummaryPanel(session: Session, settings: Settings) -> impl IntoView {
    let Settings { cutoff, horizon, unit, .. } = settings;
    let summarise = move || {
        if let Some(r) = settings.request() {
            session.summarise(r);
        }
    };
    // A new report: the link's dates if the data reach them (once), else the defaults; compute once.
    Effect::new(move |_| {
        if let Some(f) = session.summary_file() {
            settings.adopt_summary_file(f.unit);
        }
        if let Some(r) = session.report() {
            if let Some((first, last)) =
                r.first_ts.as_deref().zip(r.last_ts.as_deref()).and_then(|(a, b)| data_days(a, b))
            {
                if let Some(notice) = settings.adopt_data(first, last) {
                    session.notice.set(Some(notice));
                }
                summarise();
            }
        }
    });
    // The figures shown are always those of the settings shown: a change of
    // cutoff, horizon or unit anywhere (Cohorts sets the horizon too)
    // recomputes them, so they equal what the exports below contain.
    Effect::new(move |first: Option<()>| {
        cutoff.track();
        horizon.track();
        unit.track();
        if first.is_some() && session.summary.has_value_untracked() {
            summarise();
        }
    });
    let export = move |what| {
        if let Some(r) = settings.request() {
            session.export(what, r);
        }
    };
    let no_cutoff = move || cutoff.with(Option::is_none);
    let data_end = move || {
        session.load.with(|r| {
            r.and_then(|(_, l)| l.transactions())
                .and_then(|r| r.first_ts.as_deref().zip(r.last_ts.as_deref()))
                .and_then(|(a, b)| data_days(a, b))
                .map(|d| d.1)
        })
    };
    view! {
        {move || session.summary_file().map(|f| view! { <SummaryFileView f /> })}
        <Show when=move || session.has_transactions()>
            <section id="summary" class="panel">
                <h2>"Customers at a cutoff"</h2>
                <p class="hint">
                    "Features use only transactions on or before the cutoff; the label is net revenue in the horizon after it."
                </p>
                <div class="controls">
                    <span class="hint">{move || format!("Cutoff {}, horizon {}, times in {}s (set above).",
                        cutoff.get().map_or("(none)".to_string(), |d| d.to_string()), horizon.get(), unit.get().name())}</span>
                    <button id="compute" class="button secondary" on:click=move |_| summarise() disabled=move || session.summary.is_pending() || no_cutoff()>"Compute again"</button>
                </div>
                <TaskNote session task=session.summary name="summary" />
                <OutageNote session panel=Panel::Summary />
                {move || session.summary.get().map(|s| view! { <Stats s data_end=data_end() settings /> })}
                <div class="exports">
                    <button id="export-summary" class="button secondary" on:click=move |_| export(ExportKind::Summary) disabled=move || session.summary_export.is_pending() || no_cutoff()>"Download summary CSV"</button>
                    <button id="export-features" class="button secondary" on:click=move |_| export(ExportKind::Features) disabled=move || session.summary_export.is_pending() || no_cutoff()>"Download features CSV"</button>
                </div>
                <TaskNote session task=session.summary_export name="summary-export" />
            </section>
        </Show>
    }
}

#[component]
fn Stats(s: SummaryStats, data_end: Option<Day>, settings: Settings) -> impl IntoView {
    let u = s.unit.name();
    let preview = s
        .preview
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <td>{r.user_id.clone()}</td>
                    <td class="num">{r.frequency}</td>
                    <td class="num">{format::fixed(r.recency, 2)}</td>
                    <td class="num">{format::fixed(r.t, 2)}</td>
                    <td class="num">{format::money(r.monetary_value)}</td>
                </tr>
            }
        })
        .collect_view();
    // CLV "from today": nothing after the cutoff is observed, so there is no label to show.
    let from_today = data_end.is_some_and(|end| s.cutoff.parse::<Day>().is_ok_and(|c| c >= end));
    let label = (!from_today).then(|| {
        view! {
            <div class="stat"><span class="label">{format!("Revenue in next {} days from these customers", s.horizon_days)}</span><span class="value" id="sum-label-revenue">{format::money(s.label_revenue)}</span></div>
            <div class="stat"><span class="label">{format!("Revenue in next {} days from new customers", s.horizon_days)}</span><span class="value" id="sum-new-revenue">{format::money(s.new_customer_revenue)}</span></div>
        }
    });
    let note = if from_today {
        Some(view! { <p class="hint" id="from-today">"The cutoff is the last day of data: CLV is forecast from today, and nothing after it is observed yet. The Accuracy view checks the models on a split of its own."</p> }.into_any())
    } else {
        (!s.label_window_complete).then(|| view! { <p class="warning">"The data ends before the horizon does: the label window is only partly observed."</p> }.into_any())
    };
    view! {
        <div class="stats" id="summary-stats">
            <div class="stat"><span class="label">"Customers at cutoff"</span><span class="value" id="sum-customers">{format::int(s.customers as u64)}</span></div>
            <div class="stat"><span class="label">"Repeat buyers"</span><span class="value" id="sum-repeat">{format::int(s.repeat_buyers as u64)}</span></div>
            <div class="stat"><span class="label">"First purchase after cutoff"</span><span class="value">{format::int(s.excluded_after_cutoff as u64)}</span></div>
            <div class="stat"><span class="label">"Mean repeat purchases"</span><span class="value" id="sum-freq">{format::fixed(s.mean_frequency, 3)}</span></div>
            <div class="stat"><span class="label">{format!("Mean recency ({u}s)")}</span><span class="value">{format::fixed(s.mean_recency, 2)}</span></div>
            <div class="stat"><span class="label">{format!("Mean T ({u}s)")}</span><span class="value">{format::fixed(s.mean_t, 2)}</span></div>
            <div class="stat"><span class="label">"Mean repeat spend"</span><span class="value">{format::money(s.mean_monetary_repeaters)}</span></div>
            {label}
        </div>
        {note}
        <DataCharts s=s.clone() data_end settings />
        <div class="scroll" tabindex="0"><table id="summary-preview">
            <thead><tr><th>"user"</th><th><Term word=Word::Frequency /></th><th><Term word=Word::Recency text=format!("recency ({u}s)") /></th><th><Term word=Word::T text=format!("T ({u}s)") /></th><th><Term word=Word::MonetaryValue /></th></tr></thead>
            <tbody>{preview}</tbody>
        </table></div>
    }
}

/// The repeat-purchase histogram's bars: 0, 1, …, and the last open one ("10+").
fn repeat_bars(counts: impl Iterator<Item = f64>) -> Vec<(String, f64)> {
    let last = REPEAT_BINS - 1;
    counts.enumerate().map(|(k, n)| (if k == last { format!("{k}+") } else { k.to_string() }, n)).collect()
}

/// The Data view of a summary file: its customers as read (weights counted), how many bought
/// again, and the first rows — what the models are fitted on.
#[component]
fn SummaryFileView(f: crate::protocol::SummaryFileInfo) -> impl IntoView {
    let s = f.stats;
    let u = if s.discrete { "period".to_string() } else { f.unit.name().to_string() };
    let t_word = if s.discrete { "periods" } else { "T" };
    let money = |v: Option<f64>| v.map_or("—".to_string(), format::money);
    let bars = repeat_bars(s.repeat_histogram.iter().copied());
    let preview = s
        .preview
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <td>{r.user_id.clone()}</td>
                    <td class="num">{format::fixed(r.frequency, 0)}</td>
                    <td class="num">{format::fixed(r.recency, 2)}</td>
                    <td class="num">{format::fixed(r.t, 2)}</td>
                    {s.has_monetary.then(|| view! { <td class="num">{format::money(r.monetary_value)}</td> })}
                    {s.weighted.then(|| view! { <td class="num">{format::int(r.weight as u64)}</td> })}
                </tr>
            }
        })
        .collect_view();
    let what = if s.histogram {
        "Each row is a group of customers with the same repeat purchases (frequency), time from first to last purchase (recency) and time from first purchase to the end of the data (T): how many there are (count) and their spend added up. The models need nothing else, so they are fitted exactly as on the customers themselves. There are no dates, so there is no cutoff to choose, no accuracy check and no cohorts."
    } else if s.discrete {
        "Each row is a group of customers with the same pattern over a fixed number of periods (transaction opportunities): how many of those periods they bought in (frequency), the last period they bought in (recency) and how many periods were observed. BG/BB is the model for this."
    } else {
        "Each row is a customer, already summarised: repeat purchases (frequency), the time from their first to their last purchase (recency) and from their first purchase to the end of the data (T). There are no dates, so there is no cutoff to choose, no accuracy check and no cohorts."
    };
    let histogram_note = s.histogram.then(|| {
        view! {
            <p class="note" id="summary-file-histogram">
                "This is a histogram ("<code>"clv sql --emit histogram"</code>" makes one in your warehouse). What it cannot give: a list of individual customers — the Customers view lists the groups — and a spend model: Gamma–Gamma learns from each customer's own average spend, which a group's total does not hold, so there is no value in money unless you load a Gamma–Gamma model card (made by "<code>"clv fit --model gg"</code>" on "<code>"clv sql --emit spend"</code>"); purchases and P(alive) are shown either way. The predictions download has one row per group, with the terms your warehouse's score query ("<code>"clv sql --emit score"</code>") applies to each customer."
            </p>
        }
    });
    let spend_note = (!s.has_monetary).then(|| {
        view! { <p class="warning" id="summary-file-no-spend">"The file has no monetary value column: the models predict purchases, and value is counted in discounted purchases, not money."</p> }
    });
    view! {
        <section id="summary" class="panel">
            <h2>{if s.histogram { "Customers in the histogram" } else { "Customers in the summary file" }}</h2>
            <p class="hint">{what}</p>
            <div class="stats" id="summary-stats">
                <div class="stat"><span class="label">"Rows"</span><span class="value" id="sum-rows">{format::int(s.rows as u64)}</span></div>
                <div class="stat"><span class="label">"Customers"</span><span class="value" id="sum-customers">{format::int(s.customers.round() as u64)}</span></div>
                <div class="stat"><span class="label">"Repeat buyers"</span><span class="value" id="sum-repeat">{format::int(s.repeat_buyers.round() as u64)}</span></div>
                <div class="stat"><span class="label">"Mean repeat purchases"</span><span class="value" id="sum-freq">{format::fixed(s.mean_frequency, 3)}</span></div>
                <div class="stat"><span class="label">{format!("Mean recency ({u}s)")}</span><span class="value">{format::fixed(s.mean_recency, 2)}</span></div>
                <div class="stat"><span class="label">{format!("Mean {t_word} ({u}s)")}</span><span class="value">{format::fixed(s.mean_t, 2)}</span></div>
                <div class="stat"><span class="label">"Mean repeat spend"</span><span class="value">{money(s.mean_monetary_repeaters)}</span></div>
            </div>
            {histogram_note}
            {spend_note}
            <h3>"Customers by repeat purchases"</h3>
            <Later>{
                let bars = bars.clone();
                move || view! { <Bars id="repeat-histogram" title="Customers by repeat purchases in the summary file".to_string() bars=bars.clone() x_label="repeat purchases".to_string() y_label="customers".to_string() /> }
            }</Later>
            <div class="scroll" tabindex="0"><table id="summary-preview">
                <thead><tr>
                    <th>"user"</th><th><Term word=Word::Frequency /></th>
                    <th><Term word=Word::Recency text=format!("recency ({u}s)") /></th>
                    <th><Term word=Word::T text=format!("{t_word} ({u}s)") /></th>
                    {s.has_monetary.then(|| view! { <th><Term word=Word::MonetaryValue text=if s.histogram { "mean spend of the group" } else { "monetary value" } /></th> })}
                    {s.weighted.then(|| view! { <th>{if s.histogram { "customers (count)" } else { "customers (weight)" }}</th> })}
                </tr></thead>
                <tbody>{preview}</tbody>
            </table></div>
        </section>
    }
}

/// The Data view's pictures: purchases and new customers per week with the cutoff marked, the
/// split of the file into history and label window, and customers by repeat purchases.
#[component]
fn DataCharts(s: SummaryStats, data_end: Option<Day>, settings: Settings) -> impl IntoView {
    let w = &s.weekly;
    if w.purchases.is_empty() {
        return ().into_any();
    }
    let weeks = w.purchases.len();
    let series = vec![
        ("purchases (customer-days)".to_string(), w.purchases.iter().map(|&n| n as f64).collect()),
        ("new customers".to_string(), w.new_customers.iter().map(|&n| n as f64).collect()),
    ];
    let bars = repeat_bars(s.repeat_histogram.iter().map(|&n| n as f64));
    let first_week: Option<Day> = w.first_week.parse().ok();
    let cutoff: Option<Day> = s.cutoff.parse().ok();
    let horizon_days = s.horizon_days;
    let (first, marker) = (w.first_week.clone(), w.cutoff_week as f64 + 1.0);
    let timeline = move || {
        let (first_week, cutoff) = first_week.zip(cutoff)?;
        let data_days = data_end.map_or(weeks as i64 * 7, |e| e.number() + 1 - first_week.number());
        Some(view! {
            <SplitTimeline first_week data_days cutoff horizon_days
                calibration_end=settings.calibration_end.get() holdout_end=settings.holdout_end.get() />
        })
    };
    view! {
        <h3>"Purchases per week"</h3>
        <p class="hint">{format!("Every customer-day with a purchase, and customers buying for the first time, per Monday–Sunday week from {}. The dashed line is the cutoff: the models learn from the weeks before it.", w.first_week)}</p>
        <Later>{
            let (series, first, marker) = (series.clone(), first.clone(), marker);
            move || view! { <LineChart id="weekly-chart" title="Purchases and new customers per week".to_string() series=series.clone() x_label=format!("weeks from {first}") y_label="per week".to_string() marker=(marker, "cutoff") /> }
        }</Later>
        <h3>"How the file is split"</h3>
        <p class="hint">"The forecast starts at the cutoff. To check how accurate it is, the Accuracy view pretends an earlier day is today: it fits on the calibration period and compares its predictions with what happened in the holdout."</p>
        <Later>{timeline}</Later>
        <h3>"Customers by repeat purchases before the cutoff"</h3>
        <p class="hint">"How many customers bought again on 0, 1, 2, … other days up to the cutoff: most CLV data sets are dominated by one-time buyers."</p>
        <Later>{
            let bars = bars.clone();
            move || view! { <Bars id="repeat-histogram" title="Customers by repeat purchase days before the cutoff".to_string() bars=bars.clone() x_label="repeat purchase days".to_string() y_label="customers".to_string() /> }
        }</Later>
    }
    .into_any()
}

/// The two ways the file is split, on one time axis: the forecast (history up to the cutoff,
/// then the horizon, possibly past the data) and the Accuracy view's check (calibration, then
/// holdout). Positions are in days from the first week's Monday.
#[component]
fn SplitTimeline(
    first_week: Day,
    data_days: i64,
    cutoff: Day,
    horizon_days: i64,
    calibration_end: Option<Day>,
    holdout_end: Option<Day>,
) -> impl IntoView {
    let (width, left, right) = (640.0, 8.0, 8.0);
    let since = move |d: Day| (d.number() + 1 - first_week.number()) as f64;
    let forecast_end = since(cutoff) + horizon_days as f64;
    let span = forecast_end.max(data_days as f64).max(1.0);
    let x = move |d: f64| left + (width - left - right) * (d / span).clamp(0.0, 1.0);
    let beyond = forecast_end > data_days as f64;
    let bar = move |from: f64, to: f64, y: f64, fill: &'static str, title: String| {
        view! { <rect x=x(from) y=y width=(x(to) - x(from)).max(0.0) height=16 fill=fill><title>{title}</title></rect> }
    };
    let check = calibration_end.zip(holdout_end).filter(|(c, h)| c < h).map(|(c, h)| {
        view! {
            <text x=x(0.0) y=66 class="tick">"Accuracy check"</text>
            {bar(0.0, since(c), 72.0, PALETTE[3], format!("calibration: the models are fitted on purchases up to {c}"))}
            {bar(since(c), since(h), 72.0, PALETTE[4], format!("holdout: their predictions are compared with what customers did up to {h}"))}
            <text x=x(since(c)) y=102 text-anchor="middle" class="tick">{format!("calibration ends {c}")}</text>
            <text x=x(since(h)) y=116 text-anchor="end" class="tick">{format!("holdout ends {h}")}</text>
        }
    });
    let day = |d: i64| Day::from_number(first_week.number() + d - 1).map_or(String::new(), |d| d.to_string());
    let mut rows = vec![
        vec!["history (forecast)".to_string(), day(1), cutoff.to_string()],
        vec!["horizon (forecast)".to_string(), day(since(cutoff) as i64 + 1), day(forecast_end as i64)],
    ];
    if let Some((c, h)) = calibration_end.zip(holdout_end) {
        rows.push(vec!["calibration (accuracy check)".to_string(), day(1), c.to_string()]);
        rows.push(vec!["holdout (accuracy check)".to_string(), day(since(c) as i64 + 1), h.to_string()]);
    }
    let table = ChartTable { columns: vec!["part".into(), "from".into(), "to".into()], rows };
    let label = format!(
        "The forecast learns from purchases up to the cutoff {cutoff} and looks {horizon_days} days ahead{}.{}",
        if beyond { ", past the end of the data" } else { "" },
        calibration_end
            .zip(holdout_end)
            .map(|(c, h)| format!(" The accuracy check fits up to {c} and compares with {h}."))
            .unwrap_or_default()
    );
    view! {
        <figure class="chart" id="split-timeline">
            <svg viewBox=format!("0 0 {width} 124") role="img" aria-label=label>
                <text x=x(0.0) y=10 class="tick">"Forecast"</text>
                {bar(0.0, since(cutoff), 16.0, PALETTE[1], format!("history the models learn from, up to {cutoff}"))}
                {bar(since(cutoff), forecast_end, 16.0, PALETTE[2], format!("the horizon: {horizon_days} days after the cutoff"))}
                <line x1=x(data_days as f64) x2=x(data_days as f64) y1=4 y2=92 class="marker" />
                {if since(cutoff) as i64 >= data_days {
                    view! { <text x=x(since(cutoff)) y=46 text-anchor="middle" class="tick">{format!("cutoff {cutoff} = end of data")}</text> }.into_any()
                } else {
                    view! {
                        <text x=x(since(cutoff)) y=46 text-anchor="middle" class="tick">{format!("cutoff {cutoff}")}</text>
                        <text x=x(data_days as f64) y=58 text-anchor="end" class="tick">"end of data"</text>
                    }.into_any()
                }}
                {check}
            </svg>
            <figcaption class="legend">
                <span class="key"><i class="c1"></i>"history (forecast)"</span>
                <span class="key"><i class="c2"></i>{if beyond { "horizon (runs past the data: nothing there to compare with)" } else { "horizon (observed in the data)" }}</span>
                <span class="key"><i class="c3"></i>"calibration (accuracy check)"</span>
                <span class="key"><i class="c4"></i>"holdout (accuracy check)"</span>
            </figcaption>
            <ChartTools id="split-timeline" title="How the file is split: the forecast and the accuracy check".to_string() table size=(width, 124.0)
                legend=vec![("history".to_string(), 1), ("horizon".to_string(), 2), ("calibration".to_string(), 3), ("holdout".to_string(), 4)] />
        </figure>
    }
}
