//! Choosing data: drop zone, file picker, demo button, and the column
//! mapping the user confirms before the run.

use super::{OutageNote, PendingFile};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use clv_core::features::{looks_like_spend, looks_like_summary};
use clv_core::ingest::{parse_rates, sniff, ColumnMapping, DateOrder, IngestOptions, Role, Sniffed};
use clv_core::time::TimeUnit;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, DragEvent, File, HtmlInputElement};

pub const DEMO_URL: &str = "demo/cdnow.csv";
/// Bytes read on the main thread to propose a mapping (the rest is the worker's).
const SNIFF_BYTES: f64 = 64.0 * 1024.0;

async fn read_prefix(blob: &Blob) -> Result<Vec<u8>, String> {
    let slice = blob.slice_with_f64_and_f64(0.0, SNIFF_BYTES.min(blob.size())).map_err(|e| format!("{e:?}"))?;
    let buf = JsFuture::from(slice.array_buffer()).await.map_err(|e| format!("{e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

pub(crate) async fn fetch_demo() -> Result<Blob, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(DEMO_URL))
        .await
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not a response")?;
    if !resp.ok() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let blob = JsFuture::from(resp.blob().map_err(|e| format!("{e:?}"))?).await.map_err(|e| format!("{e:?}"))?;
    blob.dyn_into().map_err(|_| "not a blob".to_string())
}

#[component]
pub fn LoadPanel(session: Session, pending: PendingFile, sniffed: RwSignal<Option<Sniffed>>) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let choose = move |file: File| {
        let name = file.name();
        let blob: Blob = file.into();
        pending.set_value(Some((name.clone(), blob.clone())));
        session.error.set(None);
        spawn_local(async move {
            match read_prefix(&blob)
                .await
                .map_err(|e| format!("{name}: could not read the file: {e}"))
                .and_then(|b| sniff(&b, None).map_err(|e| format!("{name}: {e}")))
            {
                Ok(s) => sniffed.set(Some(s)),
                Err(e) => {
                    sniffed.set(None);
                    session.error.set(Some(e));
                }
            }
        });
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        if let Some(f) = input.files().and_then(|l| l.get(0)) {
            choose(f);
        }
        input.set_value("");
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(f) = ev.data_transfer().and_then(|d| d.files()).and_then(|l| l.get(0)) {
            choose(f);
        }
    };
    let demo = move |_| {
        sniffed.set(None);
        session.error.set(None);
        spawn_local(async move {
            match fetch_demo().await {
                Ok(blob) => session.ingest("cdnow.csv (demo)".into(), &blob, IngestOptions::default()),
                Err(e) => session.error.set(Some(format!("The demo data could not be loaded: {e}"))),
            }
        });
    };
    view! {
        <section class="load">
            <div
                id="drop-zone"
                class="drop-zone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p><strong>"Drop a transaction CSV here"</strong>" (or a customer summary) or "</p>
                <label class="button" for="csv">"Choose a file…"</label>
                <input id="csv" type="file" accept=".csv,.tsv,.txt,text/csv" on:change=on_pick />
                <p class="hint">"One row per order, charge or refund: a customer id, a date and an amount. A summary with one row per customer (frequency, recency, T) works too."</p>
            </div>
            <button id="demo" class="button secondary" on:click=demo disabled=move || session.load.is_pending()>
                "Try the demo data"
            </button>
            <p class="hint">"Demo: CDNOW, 69,659 purchases by 23,570 customers, 1997–1998 (the data of the BG/NBD paper)."</p>
            <p class="hint"><a href="#learn" id="learn-link">"New to customer lifetime value? The lesson below needs no file."</a></p>
            <OutageNote session panel=Panel::Load />
        </section>
    }
}

/// A spend histogram (`clv sql --emit spend`) dropped on the page: what it is for, and how to use it.
#[component]
fn SpendFileNote() -> impl IntoView {
    view! {
        <section id="mapping" class="panel">
            <h2>"A spend histogram"</h2>
            <p class="note" id="spend-histogram-note">
                "This file holds repeat buyers' number of purchases and average spend ("<code>"clv sql --emit spend"</code>"): what the spend model, Gamma–Gamma, learns from, and nothing the other models can use. Fit it with "<code>"clv fit --model gg --input FILE --json"</code>", then load the histogram ("<code>"clv sql --emit histogram"</code>") here and the model card under Fit models → “Or use saved model cards”."
            </p>
        </section>
    }
}

#[component]
pub fn MappingPanel(session: Session, pending: PendingFile, sniffed: RwSignal<Option<Sniffed>>) -> impl IntoView {
    move || {
        sniffed.get().map(|s| {
            if looks_like_summary(&s.headers) {
                return view! { <SummaryFileForm session pending sniffed s /> }.into_any();
            }
            if looks_like_spend(&s.headers) {
                return view! { <SpendFileNote /> }.into_any();
            }
            let mapping = RwSignal::new(s.mapping.clone());
            let order = RwSignal::new(DateOrder::MonthFirst);
            let keep_duplicates = RwSignal::new(false);
            let margin = RwSignal::new(false);
            let rates_text = RwSignal::new(String::new());
            let rates_error = RwSignal::new(None::<String>);
            let delimiter = s.delimiter;
            let name = pending.with_value(|p| p.as_ref().map(|(n, _)| n.clone())).unwrap_or_default();
            let run = move |_| {
                let m = mapping.get_untracked();
                if let Err(e) = m.validate(&sniffed.get_untracked().map(|s| s.headers).unwrap_or_default()) {
                    session.error.set(Some(e.to_string()));
                    return;
                }
                let text = rates_text.get_untracked();
                let currency_rates = if text.trim().is_empty() {
                    Vec::new()
                } else {
                    match parse_rates(&text) {
                        Ok(r) => r,
                        Err(e) => {
                            rates_error.set(Some(format!("Currency rates: {e}")));
                            return;
                        }
                    }
                };
                rates_error.set(None);
                if let Some((name, blob)) = pending.get_value() {
                    let options = IngestOptions {
                        delimiter: Some(delimiter),
                        mapping: Some(m),
                        ambiguous_date_order: order.get_untracked(),
                        // Decided from the evidence; the report says how.
                        decimal: None,
                        keep_duplicates: keep_duplicates.get_untracked(),
                        currency_rates,
                        margin: margin.get_untracked(),
                    };
                    sniffed.set(None);
                    session.ingest(name, &blob, options);
                }
            };
            let headers = s.headers.clone();
            let rows = Role::ALL
                .into_iter()
                .map(|role| view! { <RoleSelect role headers=headers.clone() mapping /> })
                .collect_view();
            let preview = s
                .preview
                .iter()
                .map(|r| view! { <tr>{r.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}</tr> })
                .collect_view();
            let head = s.headers.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view();
            view! {
                <section id="mapping" class="panel">
                    <h2>"Columns of " {name}</h2>
                    <p class="hint">
                        "Detected from the header (delimiter " {format!("{delimiter:?}")}
                        "). Change anything that is wrong, then analyse."
                    </p>
                    <div class="preview"><table><thead><tr>{head}</tr></thead><tbody>{preview}</tbody></table></div>
                    <div class="roles">{rows}</div>
                    <label>
                        "Slash dates without evidence read as "
                        <select on:change=move |ev| {
                            order.set(event_target_value(&ev).parse().unwrap_or_default())
                        }>
                            <option value="month-first">"month first (US: 03/04 = 4 March)"</option>
                            <option value="day-first">"day first (03/04 = 3 April)"</option>
                        </select>
                    </label>
                    <label>
                        <input type="checkbox" on:change=move |ev| keep_duplicates.set(event_target_checked(&ev)) />
                        " Keep exact duplicate rows (default: counted once and reported)"
                    </label>
                    <label>
                        <input id="margin" type="checkbox" on:change=move |ev| margin.set(event_target_checked(&ev)) />
                        " Count margins: subtract the variable cost column from each amount (profit CLV)"
                    </label>
                    <label class="rates">
                        "Currency rates (only for a file that mixes currencies): one currency,rate per line — the rate converts 1 unit into the reporting currency"
                        <textarea id="currency-rates" rows="3" placeholder="USD,1\nEUR,1.08" aria-describedby="rates-error"
                            on:input=move |ev| rates_text.set(event_target_value(&ev))></textarea>
                    </label>
                    {move || rates_error.get().map(|e| view! { <p id="rates-error" class="error" role="alert">{e}</p> })}
                    <button id="analyse" class="button" on:click=run>"Analyse"</button>
                </section>
            }
            .into_any()
        })
    }
}

/// A file that is already a BTYD summary (frequency, recency, T — or periods and weights): the
/// only thing it cannot say is the unit its times are in, so that is asked before it is read.
#[component]
fn SummaryFileForm(
    session: Session,
    pending: PendingFile,
    sniffed: RwSignal<Option<Sniffed>>,
    s: Sniffed,
) -> impl IntoView {
    let unit = RwSignal::new(TimeUnit::Week);
    let name = pending.with_value(|p| p.as_ref().map(|(n, _)| n.clone())).unwrap_or_default();
    let run = move |_| {
        if let Some((name, blob)) = pending.get_value() {
            sniffed.set(None);
            session.load_summary(name, &blob, unit.get_untracked());
        }
    };
    let head = s.headers.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view();
    let preview = s
        .preview
        .iter()
        .map(|r| view! { <tr>{r.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}</tr> })
        .collect_view();
    view! {
        <section id="mapping" class="panel">
            <h2>"A customer summary: " {name}</h2>
            <p class="hint">
                "This file is already summarised, one row per customer (or per group of identical customers, with a weight): repeat purchases, recency and T (or periods). The models can be fitted to it directly. It has no dates, so there is no cutoff, accuracy check or cohorts; for those, load the transactions."
            </p>
            <div class="preview"><table><thead><tr>{head}</tr></thead><tbody>{preview}</tbody></table></div>
            <label>
                "Recency and T (or one period) are in "
                <select id="summary-unit" on:change=move |ev| unit.set(event_target_value(&ev).parse().unwrap_or_default())>
                    <option value="day">"days"</option>
                    <option value="week" selected>"weeks"</option>
                    <option value="month">"months"</option>
                </select>
            </label>
            <p class="hint">"The file cannot say which: it sets the unit of the models' rates and of the horizon. CDNOW's published summary is in weeks."</p>
            <button id="analyse" class="button" on:click=run>"Read the summary"</button>
        </section>
    }
}

#[component]
fn RoleSelect(role: Role, headers: Vec<String>, mapping: RwSignal<ColumnMapping>) -> impl IntoView {
    let current = mapping.get_untracked().get(role);
    let options = headers
        .iter()
        .enumerate()
        .map(|(i, h)| view! { <option value=i.to_string() selected=current == Some(i)>{h.clone()}</option> })
        .collect_view();
    view! {
        <label class="role">
            <span>{role.name()}</span>
            <select
                id=format!("map-{}", role.name())
                on:change=move |ev| mapping.update(|m| m.set(role, event_target_value(&ev).parse().ok()))
            >
                <option value="" selected=current.is_none()>"— not in this file —"</option>
                {options}
            </select>
        </label>
    }
}
