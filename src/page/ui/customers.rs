//! Per-customer predictions: searchable, sortable and paged in the worker
//! (only one page crosses the boundary, so a million rows stay fast), with
//! CSV/JSON export equal to `clv predict`.

use super::charts::{AlivePathChart, PairedBars};
use super::format;
use super::glossary::{Term, Word};
use super::pick::{keep_or_first, usable_models, ModelSelect};
use super::{Later, OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{CustomerDetail, ExportFormat, SortKey, TableQuery};
use clv_core::pipeline::ModelKind;
use leptos::prelude::*;

pub const PAGE_SIZE: usize = 25;

const COLUMNS: [(SortKey, &str); 8] = [
    (SortKey::UserId, "customer"),
    (SortKey::Frequency, "repeat purchases"),
    (SortKey::Recency, "recency"),
    (SortKey::T, "T"),
    (SortKey::PAlive, "P(alive)"),
    (SortKey::ExpectedTxn, "expected purchases"),
    (SortKey::ExpectedSpend, "spend / purchase"),
    (SortKey::Clv, "CLV"),
];

/// The glossary entry of a column, if it has one.
fn word(key: SortKey) -> Option<Word> {
    match key {
        SortKey::Frequency => Some(Word::Frequency),
        SortKey::Recency => Some(Word::Recency),
        SortKey::T => Some(Word::T),
        SortKey::PAlive => Some(Word::PAlive),
        SortKey::Clv => Some(Word::Clv),
        _ => None,
    }
}

#[component]
pub fn CustomerTable(session: Session, segment_filter: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let model = RwSignal::new(ModelKind::Pnbd);
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new(SortKey::Clv);
    let descending = RwSignal::new(true);
    let min_p_alive = RwSignal::new(None::<f64>);
    let min_clv = RwSignal::new(None::<f64>);
    let page = RwSignal::new(0usize);
    let query = move || TableQuery {
        model: model.get_untracked(),
        search: search.get_untracked(),
        sort: sort.get_untracked(),
        descending: descending.get_untracked(),
        page: page.get_untracked(),
        page_size: PAGE_SIZE,
        min_p_alive: min_p_alive.get_untracked(),
        min_clv: min_clv.get_untracked(),
        segment: segment_filter.get_untracked(),
    };
    // Converged models only; ask for the first page when a fit arrives.
    let available = move || usable_models(session);
    Effect::new(move |_| {
        if keep_or_first(session, model).is_some() {
            page.set(0);
            session.query_table(query());
        }
    });
    let refresh = move || session.query_table(query());
    // A segment chosen in Value & segments: the first page of its customers.
    Effect::new(move |first: Option<()>| {
        segment_filter.track();
        if first.is_some() {
            page.set(0);
            refresh();
        }
    });
    // Without a spend model (a file of counts only, or a Gamma–Gamma that is not a
    // result) spend and CLV are not money: shown empty, and the reason said.
    let no_spend = move || session.models.with(|m| m.as_ref().and_then(|r| r.no_spend_reason()));
    let header = move || {
        COLUMNS
        .iter()
        .map(|&(key, name)| {
            let arrow = move || if sort.get() == key { if descending.get() { " ▼" } else { " ▲" } } else { "" };
            let aria_sort = move || match (sort.get() == key, descending.get()) {
                (false, _) => "none",
                (true, true) => "descending",
                (true, false) => "ascending",
            };
            // The unit and the horizon where a column is in them ("CLV, next 12.9 weeks").
            let name = move || {
                session.models.with(|m| match (m, key) {
                    (Some(r), SortKey::Recency | SortKey::T) => format!("{name} ({}s)", r.unit.name()),
                    (Some(r), SortKey::ExpectedTxn | SortKey::Clv) => {
                        format!("{name}, next {} {}s", format::fixed(r.horizon_units, 1), r.unit.name())
                    }
                    _ => name.to_string(),
                })
            };
            view! {
                <th aria-sort=aria_sort><button class="sort" data-sort=format!("{key:?}") on:click=move |_| {
                    if sort.get_untracked() == key { descending.update(|d| *d = !*d) } else { sort.set(key); descending.set(true) }
                    page.set(0);
                    refresh();
                }>{name}{arrow}</button>{word(key).map(|w| view! { " " <Term word=w help=true /> })}</th>
            }
        })
        .collect_view()
    };
    view! {
        <Show when=move || !available().is_empty()><Later>
            <section id="customers" class="panel">
                <h2>"Customers"</h2>
                <Show when=move || session.summary_file().is_some_and(|f| f.stats.histogram)>
                    <p id="customers-histogram" class="hint">"Each row is a group of your histogram — customers who share frequency, recency and T — not a customer: the histogram holds no customer ids. The figures are each customer's of the group; the totals in Value & segments count every customer. Your warehouse joins the predictions download back to each customer ("<code>"clv sql --emit score"</code>")."</p>
                </Show>
                <Show when=move || session.summary_file().is_some_and(|f| f.stats.weighted && !f.stats.histogram)>
                    <p id="customers-weighted" class="hint">"Each row is a row of your summary file: a group of identical customers (its weight there says how many). The figures are each customer's; the totals in Value & segments count every customer."</p>
                </Show>
                <div class="controls">
                    <ModelSelect session id="table-model" model changed=Callback::new(move |_| { page.set(0); refresh(); }) />
                    <label>"Search id "
                        <input id="table-search" type="search" on:input=move |ev| { search.set(event_target_value(&ev)); page.set(0); refresh(); } />
                    </label>
                    <label>"P(alive) at least "
                        <input id="filter-p-alive" type="number" min="0" max="1" step="0.05" placeholder="any"
                            on:change=move |ev| { min_p_alive.set(event_target_value(&ev).parse().ok().filter(|p: &f64| p.is_finite())); page.set(0); refresh(); } />
                    </label>
                    <label>"CLV at least "
                        <input id="filter-clv" type="number" step="any" placeholder="any"
                            on:change=move |ev| { min_clv.set(event_target_value(&ev).parse().ok().filter(|c: &f64| c.is_finite())); page.set(0); refresh(); } />
                    </label>
                    <button id="export-predictions-csv" class="button secondary" on:click=move |_| session.export_predictions(model.get_untracked(), ExportFormat::Csv)>"Download CSV"</button>
                    <button id="export-predictions-json" class="button secondary" on:click=move |_| session.export_predictions(model.get_untracked(), ExportFormat::Json)>"Download JSON"</button>
                </div>
                {move || segment_filter.get().map(|(column, value)| view! {
                    <p id="segment-filter" class="notice" role="status">
                        {format!("Only customers with {column} = {value} (chosen in Value & segments). ")}
                        <button id="clear-segment" class="button secondary" on:click=move |_| segment_filter.set(None)>"Show all customers"</button>
                    </p>
                })}
                <TaskNote session task=session.predictions_export name="predictions-export" />
                <TaskNote session task=session.table name="table" />
                <OutageNote session panel=Panel::Customers />
                <div class="scroll" tabindex="0"><table id="customer-table">
                    <thead><tr>{header()}<th>"80% range"</th></tr></thead>
                    <tbody>
                        {move || session.table.get().map(|t| { let money = no_spend().is_none(); t.rows.into_iter().map(move |r| {
                            let v = r.value;
                            let spend = if v.spend_backfilled { format!("{} *", format::money(v.expected_spend)) } else { format::money(v.expected_spend) };
                            let (spend, clv) = if money { (spend, format::money(v.clv)) } else { ("—".to_string(), "—".to_string()) };
                            view! {
                                <tr>
                                    <td><button class="link customer-open" aria-label=format!("Details of customer {}", r.user_id)
                                        on:click={ let id = r.user_id.clone(); move |_| session.customer_detail(model.get_untracked(), id.clone()) }>{r.user_id.clone()}</button></td>
                                    <td class="num">{r.frequency}</td>
                                    <td class="num">{format::fixed(r.recency, 2)}</td>
                                    <td class="num">{format::fixed(r.t, 2)}</td>
                                    <td class="num">{format::fixed(v.p_alive, 3)}</td>
                                    <td class="num">{format::fixed(v.expected_txn, 3)}</td>
                                    <td class="num">{spend}</td>
                                    <td class="num">{clv}</td>
                                    <td class="num">{format!("{}–{} (median {})", v.txn.lower80, v.txn.upper80, v.txn.median)}</td>
                                </tr>
                            }
                        }).collect_view() })}
                    </tbody>
                </table></div>
                <div class="pager">
                    <button id="prev-page" class="button secondary" on:click=move |_| { page.update(|p| *p = p.saturating_sub(1)); refresh(); }>"‹ Previous"</button>
                    <span id="page-info">{move || session.table.get().map(|t| {
                        let pages = t.matching.div_ceil(PAGE_SIZE).max(1);
                        format!("page {} of {} · {} of {} customers", t.page + 1, pages, format::int(t.matching as u64), format::int(t.total as u64))
                    })}</span>
                    <button id="next-page" class="button secondary" on:click=move |_| { page.update(|p| *p += 1); refresh(); }>"Next ›"</button>
                </div>
                {move || no_spend().map(|why| view! { <p id="no-spend" class="warning">{format!("Spend and CLV are not estimated: {why}.")}</p> })}
                <p class="hint">"* no repeat purchase yet: spend is the population mean (backfilled). The 80% range is the 10th–90th percentile of the customer's predicted purchase count. Click an id for that customer's forecast."</p>
                <TaskNote session task=session.customer name="customer" />
                {move || session.customer.get().map(|d| view! { <CustomerDrill d /> })}
            </section>
        </Later></Show>
    }
}

/// One customer: what the model says of them in words, and the distribution of their purchases
/// over the horizon beside a new customer's.
#[component]
fn CustomerDrill(d: CustomerDetail) -> impl IntoView {
    let (r, v, unit) = (&d.row, &d.row.value, d.unit.name());
    let horizon = format::fixed(d.horizon_units, 1);
    let model = d.model.id().label();
    let since_last = r.t - r.recency;
    let sentence = format!(
        "{} made {} repeat purchase{}; the last was {} {unit}s before the cutoff, {} {unit}s after their first. {model} puts the chance they are still a customer at {:.0}% and expects {} purchases from them in the next {horizon} {unit}s (a customer acquired today: {}).",
        r.user_id,
        r.frequency,
        if r.frequency == 1.0 { "" } else { "s" },
        format::fixed(since_last, 1),
        format::fixed(r.recency, 1),
        100.0 * v.p_alive,
        format::fixed(v.expected_txn, 2),
        format::fixed(d.new_customer_mean, 2),
    );
    let last = d.pmf.len().saturating_sub(1);
    let label = move |n: usize| if n == last { format!("{}+", n) } else { n.to_string() };
    let groups: Vec<(String, f64, f64)> =
        d.pmf.iter().zip(&d.new_customer_pmf).enumerate().map(|(n, (a, b))| (label(n), *a, *b)).collect();
    // The purchase count's 80% range at the expected spend, discounted as the CLV is: the
    // spread that comes from how many purchases they make (spend per purchase varies too).
    let per_purchase = if v.expected_txn > 0.0 { v.clv / v.expected_txn } else { 0.0 };
    let clv_range = format!(
        "{} – {}",
        format::money(per_purchase * f64::from(v.txn.lower80)),
        format::money(per_purchase * f64::from(v.txn.upper80))
    );
    let money = d.money.then(|| {
        view! {
            <div class="stat"><span class="label">"Spend per purchase"</span><span class="value">{format::money(v.expected_spend)}</span></div>
            <div class="stat"><span class="label">{format!("CLV, next {horizon} {unit}s")}</span><span class="value" id="customer-clv">{format::money(v.clv)}</span></div>
            <div class="stat"><span class="label">"CLV, 80% range"</span><span class="value" id="customer-clv-range">{clv_range.clone()}</span></div>
        }
    });
    view! {
        <section id="customer-detail" class="drill" aria-live="polite">
            <h3>{format!("Customer {} under {model}", r.user_id)}</h3>
            <p id="customer-sentence">{sentence}</p>
            <div class="stats">
                <div class="stat"><span class="label">"P(still a customer)"</span><span class="value">{format::fixed(v.p_alive, 3)}</span></div>
                <div class="stat"><span class="label">{format!("Expected purchases, next {horizon} {unit}s")}</span><span class="value">{format::fixed(v.expected_txn, 3)}</span></div>
                <div class="stat"><span class="label">"80% range"</span><span class="value">{format!("{}–{}", v.txn.lower80, v.txn.upper80)}</span></div>
                {money}
            </div>
            <h4>"Their purchases and P(alive) over time"</h4>
            {match d.cutoff {
                Some(cutoff) => view! {
                    <p class="hint">"Each dot is a day they bought. P(alive) rises with each purchase and falls in the silences, faster for a customer who used to buy often; after the cutoff it shows what the model expects if they buy nothing more."</p>
                    <AlivePathChart id="customer-alive-path" title=format!("Customer {}: purchases and P(alive) over time under {model}", r.user_id)
                        path=d.alive_path.clone() purchases=d.purchases.clone() cutoff />
                }.into_any(),
                None => view! {
                    <p class="hint" id="customer-no-timeline">"A summary file has no purchase dates, so there is no timeline: the figures above come from this customer's repeat purchases, recency and T alone."</p>
                }.into_any(),
            }}
            <h4>{format!("How many purchases in the next {horizon} {unit}s: the chance of each count")}</h4>
            <PairedBars id="customer-pmf" title="Chance of each number of purchases in the horizon: this customer and a new one".to_string() group_label="purchases".to_string() groups names=("this customer".to_string(), "a customer acquired today".to_string()) />
        </section>
    }
}
