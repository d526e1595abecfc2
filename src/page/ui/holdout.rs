//! The holdout report: fit on the calibration period, predict the holdout,
//! score every model beside the naive baseline, and say which metric answers
//! which question.

use super::charts::{LineChart, PairedBars};
use super::format;
use super::glossary::{Term, Word};
use super::settings::{DateInput, Settings, StaleNote};
use super::{Later, NeedsTransactions, OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::Session;
use crate::protocol::HoldoutRequest;
use clv_core::holdout::{Conditional, HoldoutReport};
use clv_core::learned::Loss;
use clv_core::models::ModelId;
use leptos::prelude::*;

#[component]
pub fn HoldoutPanel(session: Session, settings: Settings) -> impl IntoView {
    let (calibration, end) = (settings.calibration_end, settings.holdout_end);
    let learned = RwSignal::new(false);
    let loss = RwSignal::new(Loss::Poisson);
    let request = move || {
        Some(HoldoutRequest {
            cutoff: calibration.get()?,
            holdout_end: end.get()?,
            unit: settings.unit.get(),
            penalizer: 0.0,
            learned: learned.get(),
            learned_loss: loss.get(),
        })
    };
    // What the shown report was computed with: another cutoff or unit above makes it stale.
    let evaluated = RwSignal::new(None::<HoldoutRequest>);
    let evaluate = move || {
        if let Some(r) = request() {
            evaluated.set(Some(r.clone()));
            session.evaluate(r)
        }
    };
    let run = move |_| evaluate();
    let stale = Signal::derive(move || {
        let was = evaluated.get()?;
        session.holdout.has_value().then_some(())?;
        let learned_changed = learned.get() != was.learned || (was.learned && loss.get() != was.learned_loss);
        (calibration.get() != Some(was.cutoff)
            || end.get() != Some(was.holdout_end)
            || settings.unit.get() != was.unit
            || learned_changed)
            .then(|| {
                let with = if was.learned {
                    format!(", with the learned models (trees' loss: {})", loss_label(was.learned_loss))
                } else {
                    ", without the learned models".to_string()
                };
                format!(
                    "calibration to {}, holdout to {}, times in {}s{with}",
                    was.cutoff,
                    was.holdout_end,
                    was.unit.name()
                )
            })
    });
    view! {
        <NeedsTransactions session id="holdout" title="How accurate is it on your data?"
            why="The accuracy check refits the models on the purchases before a date and compares their predictions with the purchases after it." />
        <Show when=move || session.summary.has_value()><Later>
            <section id="holdout" class="panel">
                <h2>"How accurate is it on your data?"</h2>
                <p class="hint">"Pretend the calibration end is today: fit on transactions up to it, predict each customer's purchases from then to the holdout end, and compare with what they actually did. These dates are this view's own (see the timeline in Data); the forecast elsewhere starts at the cutoff above."</p>
                <div class="controls">
                    <span><label>"Calibration ends " <DateInput id="calibration-end" value=calibration.into() set=Callback::new(move |d| calibration.set(d)) /></label>" " <Term word=Word::Calibration help=true /></span>
                    <span><label>"Holdout ends " <DateInput id="holdout-end" value=end.into() set=Callback::new(move |d| end.set(d)) /></label>" " <Term word=Word::Holdout help=true /></span>
                    <label>
                        <input type="checkbox" id="evaluate-learned" prop:checked=move || learned.get()
                            on:change=move |ev| learned.set(event_target_checked(&ev)) />
                        " Also train the learned models (boosted trees and a sequence model)"
                    </label>
                    <button id="evaluate" class="button" on:click=run disabled=move || session.busy() || request().is_none()>"Evaluate"</button>
                </div>
                <Show when=move || learned.get()><div class="controls">
                    <label class="stacked">"What the boosted trees minimise"
                        <select id="learned-loss" on:change=move |ev| {
                            if let Ok(l) = event_target_value(&ev).parse::<Loss>() { loss.set(l) }
                        }>
                            {LOSSES.iter().map(|(code, _)| {
                                let l = code.parse::<Loss>().expect("a listed loss");
                                view! { <option value=*code selected=move || loss.get() == l>{loss_label(l)}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </div></Show>
                <p class="hint" id="learned-hint" hidden=move || !learned.get()>"The boosted trees learn, from snapshots taken earlier in the calibration period, how customers' futures differed from a BTYD model's forecast (Pareto/NBD, else BG/NBD or MBG/NBD), and correct it. The sequence model reads each customer's weeks one by one and learns to predict the next week's purchases and spend, then imagines the holdout's weeks many times over. With a users file loaded (Cohorts view), its columns — plan, country, emb_* embeddings — are features of the trees too. Nothing after the calibration end is used to train either; training takes from seconds to a minute, with its progress shown below."</p>
                <StaleNote id="holdout-stale" stale=stale recompute=Callback::new(move |_| evaluate()) />
                <SavedModelScoring session settings />
                <TaskNote session task=session.holdout name="holdout" cancel=true />
                <OutageNote session panel=Panel::Holdout />
                {move || session.holdout.get().map(|r| view! { <HoldoutView r unit=settings.unit.get_untracked().name() /> })}
            </section>
        </Later></Show>
    }
}

/// Score the loaded customers with a model saved earlier (here or by `clv train`): nothing is
/// uploaded — the file is read in the tab's worker and the scores come back as a download.
#[component]
fn SavedModelScoring(session: Session, settings: Settings) -> impl IntoView {
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let (Some(f), Some(cutoff)) = (input.files().and_then(|l| l.get(0)), settings.cutoff.get_untracked()) {
            session.score_saved(f.name(), &f.into(), cutoff, settings.horizon.get_untracked());
        }
        input.set_value("");
    };
    view! {
        <div class="controls">
            <label>"Score customers with a saved model (.json) "
                <input id="learned-model-file" type="file" accept=".json,application/json" on:change=on_file
                    disabled=move || settings.cutoff.get().is_none() /></label>
        </div>
        <p class="hint">{move || format!(
            "A model saved below after an evaluation, or by clv train. Every customer who bought by the forecast cutoff ({}) is scored over the forecast horizon ({} days): the trees' forecast beside their BTYD base, and the sequence model's mean and median if the file has one. The file is read here in the tab; the scores download as CSV.",
            settings.cutoff.get().map_or("not set".into(), |d| d.to_string()),
            settings.horizon.get().in_days()
        )}</p>
        <TaskNote session task=session.learned_scores name="learned-scores" />
    }
}

/// The losses the page offers for the boosted trees, as `Loss` parses them, with what each is for.
const LOSSES: [(&str, &str); 6] = [
    ("poisson", "Poisson: expected purchase count (the default; what measured best on CDNOW)"),
    ("tweedie:1.5", "Tweedie (power 1.5): expected count, for heavy-tailed buyers"),
    ("l2", "Squared error: the mean"),
    ("l1", "Absolute error: the median count (P50)"),
    ("quantile:0.1", "Quantile 0.1: a low count, exceeded by 9 customers in 10 (P10)"),
    ("quantile:0.9", "Quantile 0.9: a high count, exceeded by 1 customer in 10 (P90)"),
];

/// A loss as the page names it.
fn loss_label(l: Loss) -> &'static str {
    LOSSES.iter().find(|(code, _)| code.parse::<Loss>().ok() == Some(l)).map_or("custom", |(_, label)| *label)
}

/// Which model wins, and what the boosted trees rely on.
#[component]
fn LearnedNote(l: clv_core::learned::leaderboard::LearnedReport) -> impl IntoView {
    let features = l
        .importance
        .iter()
        .take(8)
        .map(|(name, share)| {
            let what = clv_core::learned::temporal::describe(name);
            view! { <li>{format!("{what}: {}% of the split gain", format::fixed(100.0 * share, 1))}</li> }
        })
        .collect_view();
    let skipped = (!l.skipped.is_empty()).then(|| {
        view! {
            <p class="hint">{format!("Earlier cutoffs with no training snapshot ({} gave no estimate there):", l.verdict.base.label())}</p>
            <ul class="hint" id="learned-skipped">{l.skipped.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
        }
    });
    let sequence = l.sequence.as_ref().map(|s| {
        let last = s.epochs.last().copied().filter(|e| e.validation_loss.is_finite());
        view! {
            <p id="learned-sequence">{format!(
                "The sequence model read {} customers' weekly histories ({} distinct: customers whose weeks look the same are read once, with their number as a weight) and learned to predict each next week from the weeks before it, for {} passes over them; it kept the weights of pass {}, which predicted the calibration period's last weeks best (they were held back from training for that).",
                format::int(s.customers as u64), format::int(s.distinct as u64), s.epochs.len(), s.best_epoch
            )}{last.map(|e| format!(" Last pass: {} per week of history, {} on the held-back weeks (negative log-likelihood; lower is better).", format::fixed(e.training_loss, 4), format::fixed(e.validation_loss, 4)))}</p>
        }
    });
    let save = l.model.clone().map(|model| {
        let file = format!("clv-learned-model-{}.json", model.trained_cutoff);
        let on_save = move |_| {
            if let Ok(text) = serde_json::to_string(&model) {
                let _ = crate::page::session::download(&file, &text);
            }
        };
        view! {
            <p>
                <button id="learned-save" class="button secondary" on:click=on_save>"Save the trained models (.json)"</button>
                <span class="hint">" Trees, cut points and weights only — no customer data. Load it above to score customers at a later cutoff, or use clv score."</span>
            </p>
        }
    });
    let revenue = l.revenue.clone().map(|b| view! { <RevenueTable b /> });
    view! {
        <p id="learned-verdict" class="verdict">{l.verdict.sentence.clone()}</p>
        {revenue}
        {save}
        <details id="learned-details">
            <summary>"How the learned models were trained and what the trees rely on"</summary>
            {sequence}
            <p>{format!("{} trees, trained on {} rows: each customer at each earlier cutoff, with what they bought from then to the calibration end. They start from {}'s forecast and learn how to correct it.", l.trees, format::int(l.training_rows as u64), l.verdict.base.label())}</p>
            <ol id="learned-importance">{features}</ol>
            {skipped}
        </details>
    }
}

/// The holdout's net revenue, forecast three ways.
#[component]
fn RevenueTable(b: clv_core::learned::leaderboard::RevenueBoard) -> impl IntoView {
    let rows = b
        .rows
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <th scope="row">{r.model.clone()}</th>
                    <td class="num">{format::grouped(r.predicted_total, 0)}</td>
                    <td class="num">{format::fixed(r.rmse, 2)}</td>
                    <td class="num">{format::fixed(r.mae, 2)}</td>
                    <td class="num">{r.bias_percent.map_or("—".into(), |b| format!("{}%", format::fixed(b, 1)))}</td>
                    <td class="num">{r.spearman.map_or("—".into(), |v| format::fixed(v, 3))}</td>
                </tr>
            }
        })
        .collect_view();
    let failed = b.failed.iter().map(|(m, why)| view! { <li>{format!("{m}: {why}")}</li> }).collect_view();
    view! {
        <h3>"Net revenue over the holdout"</h3>
        <p class="hint">{format!("What the calibration customers spent in the holdout, net of refunds: {} in all. Each forecast per customer, judged the same way as the purchase counts above (lowest RMSE first).", format::grouped(b.actual_total, 0))}</p>
        <div class="scroll" tabindex="0">
            <table id="learned-revenue">
                <thead><tr><th scope="col">"Forecast"</th><th scope="col">"Predicted total"</th><th scope="col">"RMSE"</th><th scope="col">"MAE"</th><th scope="col">"Bias"</th><th scope="col">"Spearman"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <ul class="hint" id="learned-revenue-failed">{failed}</ul>
    }
}

#[component]
fn HoldoutView(r: HoldoutReport, unit: &'static str) -> impl IntoView {
    let opt = |v: Option<f64>, d: usize| v.map_or("—".to_string(), |x| format::fixed(x, d));
    let rows = r
        .models
        .iter()
        .map(|m| {
            let flag = if m.converged { "" } else { " (did not converge)" };
            view! {
                <tr data-model=m.model.code()>
                    <td>{m.model.label()}{flag}</td>
                    <td class="num">{format::grouped(m.predicted_total, 1)}</td>
                    <td class="num">{opt(m.bias, 1)}</td>
                    <td class="num">{format::fixed(m.mae, 4)}</td>
                    <td class="num">{format::fixed(m.mae_median, 4)}</td>
                    <td class="num">{format::fixed(m.rmse, 4)}</td>
                    <td class="num">{opt(m.pearson, 3)}</td>
                    <td class="num">{opt(m.spearman, 3)}</td>
                    <td class="num">{opt(m.gini, 3)}</td>
                    <td class="num">{format::fixed(m.log_score, 4)}</td>
                </tr>
            }
        })
        .collect_view();
    let mut series = vec![("actual".to_string(), r.tracking.iter().map(|p| p.actual).collect::<Vec<_>>())];
    for (i, m) in r.models.iter().enumerate() {
        series.push((m.model.label().to_string(), r.tracking.iter().map(|p| p.predicted[i].1).collect()));
    }
    // From the first acquisition: how the models describe the calibration period and forecast the holdout.
    let acquisition = (!r.from_acquisition.periods.is_empty()).then(|| {
        let a = &r.from_acquisition;
        let mut series = vec![("actual".to_string(), a.periods.iter().map(|p| p.cumulative_actual).collect::<Vec<_>>())];
        series.extend(a.expected.iter().map(|(m, e)| (m.label().to_string(), e.clone())));
        let cutoff = a.periods.iter().filter(|p| !p.holdout).count() as f64;
        view! {
            <h3>"Repeat purchases since the first customer joined: calibration, then holdout"</h3>
            <p class="hint">"Each line adds up, period by period, the repeat purchases of the customers who had joined by the cutoff; a model's line is what it expects of them from their own first purchase. Left of the dashed line the model was fitted; right of it, it forecasts."</p>
            <LineChart id="acquisition-chart" title="Cumulative repeat purchases since the first purchase: actual and each model".to_string() series x_label=format!("{unit}s since the first purchase in the data") y_label="cumulative repeat purchases".to_string() marker=(cutoff, "cutoff") />
        }
    });
    // The per-group views show one model at a time: the best by log score unless one is chosen.
    let best = r.models.iter().filter(|m| m.model != ModelId::Naive).max_by(|a, b| a.log_score.total_cmp(&b.log_score));
    let chosen = RwSignal::new(best.map(|m| m.model));
    let options = r
        .models
        .iter()
        .map(|m| {
            let id = m.model;
            view! { <option value=id.code() prop:selected=move || chosen.get() == Some(id)>{id.label()}</option> }
        })
        .collect_view();
    let models = r.models.clone();
    let pick = move |ev| {
        let code = event_target_value(&ev);
        chosen.set(models.iter().map(|m| m.model).find(|m| m.code() == code));
    };
    let scores = r.models.clone();
    let groups = move || {
        let m = scores.iter().find(|m| Some(m.model) == chosen.get())?.clone();
        let pairs = |g: &[Conditional]| g.iter().map(|c| (c.group.clone(), c.predicted, c.actual)).collect::<Vec<_>>();
        let names = || ("predicted (mean)".to_string(), "actual (mean)".to_string());
        Some(view! {
            <h3>{format!("Deciles of {} (customers ranked by prediction)", m.model.label())}</h3>
            <PairedBars id="decile-chart" title="Holdout purchases by decile of predicted purchases: predicted and actual means".to_string() group_label="decile".to_string()
                groups=m.deciles.iter().map(|d| (d.decile.to_string(), d.predicted, d.actual)).collect() names=names() />
            <h3>"For whom is it right? Holdout purchases by what customers did before"</h3>
            <p class="hint">{format!("Customers grouped by their repeat purchases in the calibration period (left) and by how long after their first purchase they last bought (recency, in {unit}s; right): the mean number of purchases {} predicted for the holdout beside the mean they made. A model that is right overall can be wrong for the most loyal or the lapsed.", m.model.label())}</p>
            <PairedBars id="conditional-frequency" title=format!("Mean holdout purchases by calibration repeat purchases: {} and actual", m.model.label())
                group_label="repeat purchases in calibration".to_string() groups=pairs(&m.by_frequency) names=names() />
            <PairedBars id="conditional-recency" title=format!("Mean holdout purchases by calibration recency ({unit}s): {} and actual", m.model.label())
                group_label=format!("recency ({unit}s)") groups=pairs(&m.by_recency) names=names() />
        })
    };
    view! {
        <p id="holdout-summary">{format!("{} customers, holdout of {:.1} {unit}s, {} actual repeat purchases.",
            format::int(r.customers as u64), r.duration, format::grouped(r.actual_total, 0))}</p>
        <div class="scroll" tabindex="0"><table id="holdout-table">
            <thead><tr><th>"model"</th><th>"predicted total"</th><th><Term word=Word::Bias text="bias %" /></th><th><Term word=Word::Mae text="MAE (mean)" /></th><th><Term word=Word::Mae text="MAE (median)" /></th>
                <th><Term word=Word::Rmse /></th><th><Term word=Word::Pearson /></th><th><Term word=Word::Spearman /></th><th><Term word=Word::Gini /></th><th><Term word=Word::LogScore /></th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        {(!r.failed.is_empty()).then(|| view! {
            <ul id="holdout-failed" class="warnings">{r.failed.iter().map(|(m, why)| view! { <li>{format!("{} is not scored: {why}", m.label())}</li> }).collect_view()}</ul>
        })}
        {r.learned.clone().map(|l| view! { <LearnedNote l /> })}
        <p id="metric-guide" class="guide">{r.guide.clone()}</p>
        <h3>"Cumulative repeat purchases in the holdout"</h3>
        <LineChart id="tracking-chart" title="Cumulative purchases after the calibration end: actual and each model".to_string() series x_label=format!("{unit}s after the calibration end") y_label="cumulative purchases".to_string() />
        {acquisition}
        <label class="controls">"Model in the charts below " <select id="accuracy-model" on:change=pick>{options}</select></label>
        {groups}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every loss the page offers parses (the select would otherwise fail to render) and is named
    /// by its own label.
    #[test]
    fn every_offered_loss_parses_and_names_itself() {
        for (code, label) in LOSSES {
            let loss = code.parse::<Loss>().unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(loss_label(loss), label);
        }
        assert_eq!(loss_label(Loss::Quantile { alpha: 0.25 }), "custom");
    }
}
