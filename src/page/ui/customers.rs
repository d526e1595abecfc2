//! Per-customer predictions: searchable, sortable and paged in the worker
//! (only one page crosses the boundary, so a million rows stay fast), with
//! CSV/JSON export equal to `clv predict`.

use super::format;
use super::{OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{ExportFormat, SortKey, TableQuery};
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

#[component]
pub fn CustomerTable(session: Session) -> impl IntoView {
    let model = RwSignal::new(ModelKind::Pnbd);
    let search = RwSignal::new(String::new());
    let sort = RwSignal::new(SortKey::Clv);
    let descending = RwSignal::new(true);
    let page = RwSignal::new(0usize);
    let query = move || TableQuery {
        model: model.get_untracked(),
        search: search.get_untracked(),
        sort: sort.get_untracked(),
        descending: descending.get_untracked(),
        page: page.get_untracked(),
        page_size: PAGE_SIZE,
    };
    // Converged models only; ask for the first page when a fit arrives.
    let available = move || {
        session.models.with(|m| {
            m.as_ref().map_or(Vec::new(), |r| {
                r.usable_count_models().into_iter().filter_map(ModelKind::from_id).collect::<Vec<_>>()
            })
        })
    };
    Effect::new(move |_| {
        let kinds = available();
        if let Some(first) = kinds.iter().copied().find(|k| *k == model.get_untracked()).or(kinds.first().copied()) {
            model.set(first);
            page.set(0);
            session.query_table(query());
        }
    });
    let refresh = move || session.query_table(query());
    // Without a spend model (a file of counts only, or a Gamma–Gamma that is not a
    // result) spend and CLV are not money: shown empty, and the reason said.
    let no_spend = move || session.models.with(|m| m.as_ref().and_then(|r| r.no_spend_reason()));
    let header = move || {
        COLUMNS
        .iter()
        .map(|&(key, name)| {
            let arrow = move || if sort.get() == key { if descending.get() { " ▼" } else { " ▲" } } else { "" };
            view! {
                <th><button class="sort" data-sort=format!("{key:?}") on:click=move |_| {
                    if sort.get_untracked() == key { descending.update(|d| *d = !*d) } else { sort.set(key); descending.set(true) }
                    page.set(0);
                    refresh();
                }>{name}{arrow}</button></th>
            }
        })
        .collect_view()
    };
    view! {
        <Show when=move || !available().is_empty()>
            <section id="customers" class="panel">
                <h2>"Customers"</h2>
                <div class="controls">
                    <label>"Model "
                        <select id="table-model" on:change=move |ev| {
                            if let Ok(k) = event_target_value(&ev).parse() { model.set(k); page.set(0); refresh(); }
                        }>
                            {move || available().into_iter().map(|k| view! {
                                <option value=k.code() selected=model.get_untracked() == k>{k.id().label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>"Search id "
                        <input id="table-search" type="search" on:input=move |ev| { search.set(event_target_value(&ev)); page.set(0); refresh(); } />
                    </label>
                    <button id="export-predictions-csv" class="button secondary" on:click=move |_| session.export_predictions(model.get_untracked(), ExportFormat::Csv)>"Download CSV"</button>
                    <button id="export-predictions-json" class="button secondary" on:click=move |_| session.export_predictions(model.get_untracked(), ExportFormat::Json)>"Download JSON"</button>
                </div>
                <TaskNote session task=session.predictions_export name="predictions-export" />
                <TaskNote session task=session.table name="table" />
                <OutageNote session panel=Panel::Customers />
                <table id="customer-table">
                    <thead><tr>{header()}<th>"80% range"</th></tr></thead>
                    <tbody>
                        {move || session.table.get().map(|t| { let money = no_spend().is_none(); t.rows.into_iter().map(move |r| {
                            let v = r.value;
                            let spend = if v.spend_backfilled { format!("{} *", format::money(v.expected_spend)) } else { format::money(v.expected_spend) };
                            let (spend, clv) = if money { (spend, format::money(v.clv)) } else { ("—".to_string(), "—".to_string()) };
                            view! {
                                <tr>
                                    <td>{r.user_id}</td>
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
                </table>
                <div class="pager">
                    <button id="prev-page" class="button secondary" on:click=move |_| { page.update(|p| *p = p.saturating_sub(1)); refresh(); }>"‹ Previous"</button>
                    <span id="page-info">{move || session.table.get().map(|t| {
                        let pages = t.matching.div_ceil(PAGE_SIZE).max(1);
                        format!("page {} of {} · {} of {} customers", t.page + 1, pages, format::int(t.matching as u64), format::int(t.total as u64))
                    })}</span>
                    <button id="next-page" class="button secondary" on:click=move |_| { page.update(|p| *p += 1); refresh(); }>"Next ›"</button>
                </div>
                {move || no_spend().map(|why| view! { <p id="no-spend" class="warning">{format!("Spend and CLV are not estimated: {why}.")}</p> })}
                <p class="hint">"* no repeat purchase yet: spend is the population mean (backfilled). The 80% range is the 10th–90th percentile of the customer's predicted purchase count."</p>
            </section>
        </Show>
    }
}
