//! The Cohorts tab: retention matrix, cumulative revenue per user, cohort
//! CLV at a horizon after signup (observed + forecast, with the method and
//! interval said), the per-customer BTYD view beside it, and the daily
//! revenue forecast with its backtest against the baselines.

use super::charts::{BandChart, LineChart};
use super::format;
use super::glossary::{Term, Word};
use super::settings::{DateInput, HorizonSelect, Settings};
use super::{Later, NeedsTransactions, OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::{CohortRequest, CohortsView, UsersInfo};
use clv_core::cohorts::survival::CohortRetention;
use clv_core::forecast::backtest::MethodScore;
use clv_core::ingest::Role;
use clv_core::pipeline::ModelKind;
use clv_core::time::{CohortGrain, Day, TimeUnit};
use leptos::prelude::*;
use web_sys::HtmlInputElement;

/// Cohorts and ages shown on screen; the export has them all.
const SHOWN_COHORTS: usize = 24;
const SHOWN_AGES: usize = 24;

#[component]
pub fn CohortsPanel(session: Session, settings: Settings) -> impl IntoView {
    let grain = RwSignal::new(CohortGrain::Month);
    let age_unit = RwSignal::new(TimeUnit::Month);
    // The shared cutoff (Summary, Models), unless the user sets another one
    // here — which the panel then says, with a way back.
    let own_cutoff = RwSignal::new(None::<Option<Day>>);
    let cutoff = Signal::derive(move || own_cutoff.get().unwrap_or_else(|| settings.cutoff.get()));
    let btyd = RwSignal::new(None::<ModelKind>);
    let segment = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        session.load.track();
        own_cutoff.set(None);
    });
    let set_cutoff = move |d: Option<Day>| own_cutoff.set((d != settings.cutoff.get_untracked()).then_some(d));
    let request = move || {
        Some(CohortRequest {
            cutoff: cutoff.get_untracked()?,
            horizon: settings.horizon.get_untracked(),
            grain: grain.get_untracked(),
            age_unit: age_unit.get_untracked(),
            level: 0.9,
            btyd: btyd.get_untracked(),
            segment: segment.get_untracked(),
        })
    };
    let build_cohorts = move |_| {
        if let Some(r) = request() {
            session.cohorts(r)
        }
    };
    let on_users = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        if let Some(f) = input.files().and_then(|l| l.get(0)) {
            let name = f.name();
            session.load_users(name, &f.into());
        }
        input.set_value("");
    };
    // Users-file columns, then the transaction columns kept per customer.
    let attributes = move || {
        let mut names = session.users.with(|u| u.as_ref().map(|u| u.attributes.clone()).unwrap_or_default());
        session.load.with(|r| {
            if let Some(r) = r.and_then(|(_, l)| l.transactions()) {
                let kept = r.columns.iter().filter(|c| c.role.is_some_and(|role| Role::SEGMENTS.contains(&role)));
                names.extend(kept.map(|c| c.name.clone()).filter(|n| !names.contains(n)).collect::<Vec<_>>());
            }
        });
        names
    };
    let fitted = move || session.models.with(|m| m.as_ref().map(|m| m.usable_count_models()).unwrap_or_default());
    view! {
        <NeedsTransactions session id="cohorts" title="Cohorts"
            why="Cohorts group customers by the month (or week, or day) of their first purchase and follow their purchases by age." />
        <Show when=move || session.has_transactions()><Later>
            <section id="cohorts" class="panel">
                <h2>"Cohorts"</h2>
                <p class="hint">"Customers grouped by when they joined (first purchase). How many keep buying, what each is worth so far, and what a cohort will be worth a set number of days after joining."</p>
                <div class="controls">
                    <label>"Users file (optional: user_id, signup_ts, attributes) " <input id="users-file" type="file" accept=".csv,.tsv,.txt,text/csv" on:change=on_users /></label>
                    {move || session.users.get().map(|u| view! { <UsersSummary u /> })}
                </div>
                <div class="controls">
                    <label>"Cohort " <select id="cohort-grain" on:change=move |ev| grain.set(event_target_value(&ev).parse().unwrap_or_default())>
                        <option value="day">"day"</option><option value="week">"week"</option><option value="month" selected>"month"</option>
                    </select></label>
                    <label>"Age in " <select id="cohort-age-unit" on:change=move |ev| age_unit.set(event_target_value(&ev).parse().unwrap_or_default())>
                        <option value="day">"days"</option><option value="week">"weeks"</option><option value="month" selected>"months"</option>
                    </select></label>
                    <label>"Data up to " <DateInput id="cohort-cutoff" value=cutoff set=Callback::new(set_cutoff) /></label>
                    <label>"Value at " <HorizonSelect settings id="cohort-horizon" />" after joining"</label>
                    <label>"Segment " <select id="cohort-segment" on:change=move |ev| { let v = event_target_value(&ev); segment.set((!v.is_empty()).then_some(v)) }>
                        <option value="">"—"</option>
                        {move || attributes().into_iter().map(|a| view! { <option value=a.clone()>{a.clone()}</option> }).collect_view()}
                    </select></label>
                    <label>"Compare with " <select id="cohort-btyd" on:change=move |ev| btyd.set(event_target_value(&ev).parse().ok())>
                        <option value="">"—"</option>
                        {move || fitted().into_iter().map(|m| view! { <option value=m.code()>{m.label()}</option> }).collect_view()}
                    </select></label>
                    <button id="build-cohorts" class="button" on:click=build_cohorts disabled=move || session.busy() || cutoff.with(Option::is_none)>"Build cohorts"</button>
                </div>
                {move || own_cutoff.get().map(|own| view! {
                    <p id="cohort-cutoff-note" class="hint">
                        {format!("Cohorts use data up to {}, not the cutoff {} that Summary and Models use. ", shown(own), shown(settings.cutoff.get()))}
                        <button id="cohort-cutoff-reset" class="button secondary" on:click=move |_| own_cutoff.set(None)>"Use the shared cutoff"</button>
                    </p>
                })}
                <TaskNote session task=session.users name="users" />
                <TaskNote session task=session.cohorts name="cohorts" cancel=true />
                <OutageNote session panel=Panel::Cohorts />
                {move || session.cohorts.get().map(|v| view! { <CohortsView v session /> })}
            </section>
        </Later></Show>
    }
}

/// A day as the page writes it, or that none is chosen.
fn shown(day: Option<Day>) -> String {
    day.map_or_else(|| "(none)".to_string(), |d| d.to_string())
}

#[component]
fn UsersSummary(u: UsersInfo) -> impl IntoView {
    let skipped = (u.rejected > 0).then(|| {
        let first = u.first_rejected.iter().map(|(l, why)| format!("line {l}: {why}")).collect::<Vec<_>>().join("; ");
        format!(" {} rows skipped ({first}).", format::int(u.rejected as u64))
    });
    view! {
        <p id="users-summary" class="hint">{format!("{}: {} users, {} with a signup date; attributes: {}.{}",
            u.name, format::int(u.users as u64), format::int(u.with_signup as u64),
            if u.attributes.is_empty() { "none".to_string() } else { u.attributes.join(", ") }, skipped.unwrap_or_default())}</p>
    }
}

#[component]
fn CohortsView(v: CohortsView, session: Session) -> impl IntoView {
    let req = v.request.clone();
    let unit = req.age_unit.name();
    let export = move |table: bool| {
        let req = req.clone();
        move |_| session.export_cohorts(req.clone(), table)
    };
    let notes = v.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view();
    let shown: Vec<_> = v.matrix.iter().rev().take(SHOWN_COHORTS).rev().collect();
    let ages = shown.iter().map(|c| c.retention.len()).max().unwrap_or(0).min(SHOWN_AGES);
    let head = (0..ages).map(|a| view! { <th>{a.to_string()}</th> }).collect_view();
    let rows = shown
        .iter()
        .map(|c| {
            let cells = (0..ages)
                .map(|a| match c.retention.get(a) {
                    Some(r) => view! { <td class=format!("num h{}", (r * 10.0).round() as u32)>{format!("{:.0}%", r * 100.0)}</td> }.into_any(),
                    None => view! { <td></td> }.into_any(),
                })
                .collect_view();
            view! { <tr><td>{c.cohort.clone()}</td><td class="num">{format::int(u64::from(c.users))}</td>{cells}</tr> }
        })
        .collect_view();
    // Up to five cohorts, spread over the range, for the cumulative curves.
    let step = (shown.len() / 5).max(1);
    let curves: Vec<(String, Vec<f64>)> = shown
        .iter()
        .rev()
        .step_by(step)
        .take(5)
        .map(|c| (c.cohort.clone(), c.cumulative_per_user.iter().take(SHOWN_AGES).copied().collect()))
        .collect();
    let btyd_head = v.btyd.as_ref().map(|(k, _)| view! { <th>{format!("{} per user", k.id().label())}</th> });
    let values = v.values[v.values.len().saturating_sub(SHOWN_COHORTS * 5)..]
        .iter()
        .map(|x| {
            let interval = match (x.clv_lower, x.clv_upper) {
                (Some(l), Some(u)) => format!("{} – {}", format::money(l), format::money(u)),
                _ => "—".into(),
            };
            let model = v.btyd.as_ref().map(|(_, b)| {
                let value = b.iter().find(|b| b.cohort == x.cohort && b.segment == x.segment).map(|b| b.clv_per_user);
                view! { <td class="num">{value.map_or("—".into(), format::money)}</td> }
            });
            view! {
                <tr data-method=x.method.name() class:segment=x.segment.is_some()>
                    <td>{x.cohort.clone()}</td>
                    <td>{x.segment.clone().unwrap_or_else(|| "all".into())}</td>
                    <td class="num">{format::int(u64::from(x.users))}</td>
                    <td class="num">{format::money(x.observed_revenue)}</td>
                    <td class="num">{format::money(x.clv_per_user)}</td>
                    <td class="num">{interval}</td>
                    {model}
                    <td>{x.method.name()}</td>
                    <td class="note">{x.note.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let btyd_note = v.btyd_note.clone().map(|n| view! { <p class="hint" id="btyd-note">{n}</p> });
    let daily = daily_view(&v);
    let backtest = backtest_view(&v);
    view! {
        <p id="cohort-summary">{format!("{} cohorts, {} net revenue up to {}.", format::int(v.matrix.len() as u64), format::money(v.total_revenue), v.request.cutoff)}</p>
        <ul class="notes">{notes}</ul>
        <h3>"Retention: share of each cohort buying in each " {unit} " after joining"</h3>
        <div class="scroll" tabindex="0"><table id="retention-matrix" class="heat">
            <thead><tr><th>"cohort"</th><th>"users"</th>{head}</tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        {retention_view(&v)}
        <h3>"Cumulative net revenue per acquired user"</h3>
        <LineChart id="cumulative-chart" title="Cumulative revenue per user by cohort, from joining".to_string() series=curves from_zero=true x_label=format!("{unit}s since joining") y_label="revenue per user".to_string() />
        <h3>{format!("Value per user {} days after joining", v.request.horizon.in_days())}</h3>
        <p class="hint">"Observed where the cohort is old enough; otherwise its own daily revenue is extended by Holt–Winters (additive damped trend, weekly season), or — for short or sparse histories — by the per-user revenue of older cohorts at the same ages. The 90% band covers day-to-day noise around the fitted model, not uncertainty in the model itself. Undiscounted."</p>
        {btyd_note}
        <div class="scroll" tabindex="0"><table id="cohort-clv">
            <thead><tr><th>"cohort"</th><th>"segment"</th><th>"users"</th><th>"revenue so far"</th><th>"value per user"</th><th>"90% interval"</th>{btyd_head}<th>"method"</th><th>"note"</th></tr></thead>
            <tbody>{values}</tbody>
        </table></div>
        <div class="controls">
            <button id="export-cohort-clv" class="button secondary" on:click=export(false)>"Export cohort values (CSV)"</button>
            <button id="export-cohort-table" class="button secondary" on:click=export(true)>"Export cohort table (CSV)"</button>
        </div>
        {daily}
        {backtest}
    }
}

/// Each cohort's members still buying at an age or later, and sBG's projection of them.
fn retention_view(v: &CohortsView) -> impl IntoView {
    let unit = v.request.age_unit.name();
    let shown: Vec<&CohortRetention> = v.retention.iter().rev().take(SHOWN_COHORTS).rev().collect();
    let age = shown.iter().filter_map(|r| r.fit.as_ref()).map(|f| f.projection.len()).max().unwrap_or(0);
    let share = |n: f64, users: u32| format!("{:.0}%", 100.0 * n / f64::from(users.max(1)));
    let rows = shown
        .iter()
        .map(|r| {
            let observed = r.survivors.len() - 1;
            let now = r.survivors.last().map_or("—".into(), |&n| share(n, r.users));
            let projection = r.fit.as_ref().filter(|f| !f.projection.is_empty());
            let param = |i: usize| {
                projection.and_then(|f| f.report.params.get(i)).map_or("—".into(), |p| format::estimate(p.value, 3))
            };
            let last = projection.and_then(|f| f.projection.last());
            let note = match (&r.note, r.fit.as_ref()) {
                (Some(n), _) => n.clone(),
                (None, Some(f)) if f.projection.is_empty() => {
                    format!("{}: {}", f.report.convergence.status(), f.report.convergence.message)
                }
                _ => String::new(),
            };
            view! {
                <tr>
                    <td>{r.cohort.clone()}</td>
                    <td class="num">{format::int(u64::from(r.users))}</td>
                    <td class="num">{observed.to_string()}</td>
                    <td class="num">{now}</td>
                    <td class="num">{param(0)}</td>
                    <td class="num">{param(1)}</td>
                    <td class="num">{last.map_or("—".into(), |p| format!("{:.0}%", 100.0 * p.survival))}</td>
                    <td class="num">{last.map_or("—".into(), |p| format!("{:.0}%", 100.0 * p.retention))}</td>
                    <td class="note">{note}</td>
                </tr>
            }
        })
        .collect_view();
    // Up to three cohorts, oldest to newest: what was observed and what sBG projects.
    let step = (shown.len() / 3).max(1);
    let series: Vec<(String, Vec<f64>)> = shown
        .iter()
        .rev()
        .step_by(step)
        .take(3)
        .filter_map(|r| r.fit.as_ref().filter(|f| !f.projection.is_empty()).map(|f| (r, f)))
        .flat_map(|(r, f)| {
            let users = f64::from(r.users.max(1));
            let observed = r.survivors[1..].iter().map(|n| n / users).collect();
            let projected = f.projection.iter().map(|p| p.survival).collect();
            [(format!("{} observed", r.cohort), observed), (format!("{} sBG (dashed)", r.cohort), projected)]
        })
        .collect();
    let chart = (!series.is_empty()).then(|| {
        view! { <LineChart id="retention-chart" title="Share of each cohort still buying: observed and the sBG fit".to_string() series paired=true x_label=format!("{unit}s since joining") y_label="share still buying".to_string() /> }
    });
    view! {
        <h3>{format!("Retention projected to {age} {unit}s: members who buy at an age or later, and the sBG model")}</h3>
        <p class="hint">
            "A member counts as retained at an age if they buy then or later — for a subscription paid every "
            {unit} ", those still subscribed. The shifted-beta-geometric model (Fader & Hardie 2007) assumes each member leaves for good at their own constant rate, rates differing between members (γ, δ), so the share kept each "
            {unit} " rises as the quick leavers go. It is fitted to each cohort's observed ages; where members only buy now and then, the last ages look lower than they are (someone between purchases looks gone)."
        </p>
        <div class="scroll" tabindex="0"><table id="retention-projection">
            <thead><tr><th>"cohort"</th><th>"users"</th><th>{format!("{unit}s observed")}</th><th>"retained at last age"</th><th>"γ"</th><th>"δ"</th><th>{format!("retained at {unit} {age}")}</th><th>{format!("kept in {unit} {age}")}</th><th>"note"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        {chart}
    }
}

fn daily_view(v: &CohortsView) -> impl IntoView {
    let d = v.daily.clone();
    let title = format!("Daily net revenue: the last {} days and the next four weeks", d.history.len());
    let chart = d.forecast.clone().map(|f| {
        view! {
            <BandChart id="daily-forecast" title="Revenue per period: observed and forecast with its band".to_string() history=d.history.clone() mean=f.mean lower=f.lower upper=f.upper
                x_label="date".to_string() y_label="net revenue".to_string() band_label="90% interval".to_string() start=d.start.parse().ok() />
        }
    });
    let method = if d.note.is_empty() { d.method.clone() } else { format!("{} ({})", d.method, d.note) };
    view! {
        <h3>{title}</h3>
        <p class="hint" id="daily-method">{format!("Method: {method}")}</p>
        {chart}
    }
}

fn backtest_view(v: &CohortsView) -> impl IntoView {
    let Some(b) = v.backtest.clone() else {
        return view! { <p class="hint" id="backtest-note">{v.backtest_note.clone()}</p> }.into_any();
    };
    let weeks = b.horizon.div_ceil(7);
    let week_mase = |s: &MethodScore, w: usize| {
        let slice = &s.by_horizon[w * 7..((w + 1) * 7).min(s.by_horizon.len())];
        let known: Vec<f64> = slice.iter().filter_map(|m| m.mase).collect();
        (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
    };
    let head = (0..weeks).map(|w| view! { <th>{format!("MASE week {}", w + 1)}</th> }).collect_view();
    let rows = b
        .scores
        .iter()
        .map(|s| {
            let flag =
                s.loses_to_seasonal_naive.then(|| view! { <span class="flag">" loses to seasonal naive"</span> });
            let per_week = (0..weeks)
                .map(|w| view! { <td class="num">{week_mase(s, w).map_or("—".into(), |v| format::fixed(v, 2))}</td> })
                .collect_view();
            view! {
                <tr data-method=s.method.name()>
                    <td>{s.method.name()}{flag}</td>
                    <td class="num">{format::fixed(s.overall.mae, 2)}</td>
                    <td class="num">{format::fixed(s.overall.rmse, 2)}</td>
                    <td class="num">{s.overall.mase.map_or("—".into(), |v| format::fixed(v, 3))}</td>
                    <td class="num">{format::fixed(s.overall.smape, 1)}</td>
                    {per_week}
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>{format!("Backtest: {} forecasts of the daily revenue, {} days ahead each", b.origins.len(), b.horizon)}</h3>
        <p class="hint">"Rolling origin: cut the history at several points a week apart, forecast, compare with what happened. MASE below 1 beats last week's same weekday on average."</p>
        <div class="scroll" tabindex="0"><table id="backtest-table">
            <thead><tr><th>"method"</th><th><Term word=Word::Mae /></th><th><Term word=Word::Rmse /></th><th><Term word=Word::Mase /></th><th>"sMAPE %"</th>{head}</tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
    }
    .into_any()
}
