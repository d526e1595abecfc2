//! The ingest report: what was read, how each column was read, and every
//! reason a row was not used.

use super::format;
use crate::page::session::Session;
use clv_core::ingest::IngestReport;
use leptos::prelude::*;

#[component]
pub fn ReportPanel(session: Session) -> impl IntoView {
    // A summary file's figures are the Data view's (summary.rs): there is no ingest report.
    move || {
        session
            .report()
            .map(|r| view! { <Report name=session.load.with(|l| l.map(|(n, _)| n.clone()).unwrap_or_default()) r /> })
    }
}

fn stat(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="label">{label}</span>
            <span class="value" id=id>{value}</span>
        </div>
    }
}

#[component]
fn Report(name: String, r: IngestReport) -> impl IntoView {
    let range = match (&r.first_ts, &r.last_ts) {
        (Some(a), Some(b)) => format!("{} → {}", &a[..10], &b[..10]),
        _ => "—".into(),
    };
    let currency = r.currency.clone().map(|c| format!(" {c}")).unwrap_or_default();
    let reasons = r
        .reasons
        .iter()
        .map(|s| {
            let lines = s.first_lines.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
            let more = if s.count as usize > s.first_lines.len() { ", …" } else { "" };
            view! {
                <tr class="reason" data-reason=s.reason.clone()>
                    <td><code>{s.reason.clone()}</code></td>
                    <td class="num">{format::int(s.count)}</td>
                    <td>{format!("{lines}{more}")}</td>
                    <td>{s.example.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let has_rejections = !r.reasons.is_empty();
    let dup_note = (r.duplicates > 0).then(|| {
        let lines = r.duplicate_lines.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        view! {
            <p class="hint">
                {format!("{} exact duplicate rows were counted once (first at lines {lines}). ", format::int(r.duplicates))}
                "Tick “keep exact duplicate rows” if they are real repeat orders."
            </p>
        }
    });
    let columns = r
        .columns
        .iter()
        .map(|c| {
            view! {
                <tr>
                    <td>{c.name.clone()}</td>
                    <td>{c.role.map(|x| x.name()).unwrap_or("—")}</td>
                    <td>{c.read_as.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let formats = r.formats.iter().map(|(k, v)| view! { <li>{format!("{k}: {v}")}</li> }).collect_view();
    let warnings = r.warnings.iter().map(|w| view! { <li class="warning">{w.clone()}</li> }).collect_view();
    view! {
        <section id="report" class="panel">
            <h2>"What was read from " {name}</h2>
            <div class="stats">
                {stat("stat-rows", "Data rows", format::int(r.rows))}
                {stat("stat-accepted", "Accepted", format::int(r.accepted))}
                {stat("stat-rejected", "Rejected", format::int(r.rejected))}
                {stat("stat-duplicates", "Duplicates", format::int(r.duplicates))}
                {stat("stat-customers", "Customers", format::int(r.customers))}
                {stat("stat-range", "Date range", range)}
                {stat("stat-revenue", "Net revenue", format!("{}{currency}", format::money(r.net_revenue)))}
                {stat("stat-refunds", "Refunds", format!("{} ({})", format::int(r.refunds), format::money(r.refund_total)))}
            </div>
            <ul class="warnings">{warnings}</ul>
            {dup_note}
            {has_rejections.then(|| view! {
                <h3>"Rows not used"</h3>
                <div class="scroll" tabindex="0"><table id="rejections">
                    <thead><tr><th>"reason"</th><th>"rows"</th><th>"first lines"</th><th>"example"</th></tr></thead>
                    <tbody>{reasons}</tbody>
                </table></div>
            })}
            <h3>"How each column was read"</h3>
            <div class="scroll" tabindex="0"><table id="columns">
                <thead><tr><th>"column"</th><th>"used as"</th><th>"read as"</th></tr></thead>
                <tbody>{columns}</tbody>
            </table></div>
            <ul class="formats">{formats}</ul>
        </section>
    }
}
