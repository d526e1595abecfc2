//! The Models panel: fit BG/NBD, Pareto/NBD, MBG/NBD and Gamma–Gamma at the
//! chosen cutoff; parameters ± SE, log-likelihood, convergence, warnings.
//! A fit that did not converge shows its diagnosis, never its numbers.

use super::charts::PairedBars;
use super::format;
use super::glossary::{Term, Word};
use super::settings::{FitTarget, Settings, StaleNote};
use super::{Later, OutageNote, TaskNote};
use crate::page::recovery::Panel;
use crate::page::session::download;
use crate::page::session::Session;
use crate::protocol::{GivenReport, ModelRequest, ModelsResult, NamedCard};
use clv_core::clv::Discounting;
use clv_core::models::compare::{verdict, Standing};
use clv_core::models::given::ModelCard;
use clv_core::models::{FitReport, LimitingFit, ModelId, ParamEstimate};
use clv_core::pipeline::ModelKind;
use clv_core::time::TimeUnit;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement};

#[component]
pub fn ModelsPanel(session: Session, settings: Settings) -> impl IntoView {
    let discount = settings.discount;
    // What the shown fits were computed with (settings, discount rate, cards): a change above makes them stale.
    let fitted_with = RwSignal::new(None::<(FitTarget, f64)>);
    // A discrete-time summary file (periods, not T) is BG/BB's: the continuous models do not apply.
    let discrete = move || session.summary_file().is_some_and(|f| f.stats.discrete);
    let last_cards = StoredValue::new(Vec::<NamedCard>::new());
    let penalizer = RwSignal::new(0.0f64);
    let discounting = RwSignal::new(Discounting::PerPeriod);
    let ageing = RwSignal::new(false);
    let card_error = RwSignal::new(None::<String>);
    let run = move |cards: Vec<NamedCard>| {
        if let Some(target) = untrack(|| settings.fit_target()) {
            let mut models = ModelKind::CONTINUOUS.to_vec();
            if untrack(discrete) {
                models = vec![ModelKind::Bgbb];
            } else if ageing.get_untracked() {
                models.push(ModelKind::Ggomnbd);
            }
            fitted_with.set(Some((target, discount.get_untracked())));
            last_cards.set_value(cards.clone());
            session.fit_models(ModelRequest {
                cutoff: target.cutoff,
                horizon: target.horizon,
                unit: target.unit,
                models,
                penalizer: penalizer.get_untracked(),
                annual_discount_rate: discount.get_untracked() / 100.0,
                discounting: discounting.get_untracked(),
                cards,
            })
        }
    };
    let fit = move |_| {
        card_error.set(None);
        run(Vec::new())
    };
    // Model cards are read and parsed here, in the tab; the worker checks them against the data.
    let on_cards = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let files: Vec<File> =
            input.files().map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect()).unwrap_or_default();
        input.set_value("");
        card_error.set(None);
        spawn_local(async move {
            let mut cards = Vec::new();
            for f in files {
                match read_card(&f).await {
                    Ok(c) => cards.push(c),
                    Err(e) => {
                        card_error.set(Some(e));
                        return;
                    }
                }
            }
            if !cards.is_empty() {
                run(cards)
            }
        });
    };
    let stale = Signal::derive(move || {
        let (was, rate) = fitted_with.get()?;
        session.models.has_value().then_some(())?;
        let changed = settings.fit_target() != Some(was) || discount.get() != rate;
        changed.then(|| format!("{}, discount rate {}% a year", was.describe(), rate))
    });
    view! {
        <Show when=move || session.has_customers()><Later>
            <section id="models" class="panel">
                <h2>"Models"</h2>
                <p class="hint">
                    {move || if discrete() {
                        "Fits BG/BB (how many of the periods each customer buys in, and when they leave) and Gamma–Gamma (how much each) on the summary file's customers, by maximum likelihood. A period is one "
                    } else if session.has_summary_file() {
                        "Fits BG/NBD, Pareto/NBD and MBG/NBD (how many purchases; Gamma–Gompertz/NBD too if you tick it) and Gamma–Gamma (how much each) on the summary file's customers, by maximum likelihood. Times are in "
                    } else {
                        "Fits BG/NBD, Pareto/NBD and MBG/NBD (how many purchases; Gamma–Gompertz/NBD too if you tick it) and Gamma–Gamma (how much each) on the customers at the cutoff, by maximum likelihood. Times are in "
                    }}
                    {move || settings.unit.get().name()} {move || if discrete() { "." } else { "s." }}
                </p>
                <div class="controls">
                    <label>"Discounting "
                        <select id="discounting" on:change=move |ev| discounting.set(event_target_value(&ev).parse().unwrap_or_default())>
                            <option value="per-period" prop:selected=move || discounting.get() == Discounting::PerPeriod>"each period, over the exact horizon"</option>
                            <option value="lifetimes" prop:selected=move || discounting.get() == Discounting::LifetimesMonthly>"monthly, as the Python lifetimes package"</option>
                        </select>
                    </label>
                    <label>"L2 penalizer "
                        <input id="penalizer" type="number" min="0" step="0.001" prop:value=move || penalizer.get().to_string()
                            on:change=move |ev| penalizer.set(event_target_value(&ev).parse().unwrap_or(0.0)) />
                    </label>
                    <label hidden=discrete>
                        <input id="fit-ggomnbd" type="checkbox" prop:checked=move || ageing.get()
                            on:change=move |ev| ageing.set(event_target_checked(&ev)) />
                        " Also fit Gamma–Gompertz/NBD (the risk of leaving may grow with a customer's age; slower)"
                    </label>
                    <button id="fit-models" class="button" on:click=fit disabled=move || session.busy()>"Fit models"</button>
                    <label class="file-button">"Or use saved model cards (JSON) instead of fitting "
                        <input id="model-cards" type="file" accept=".json,application/json" multiple
                            disabled=move || session.busy() on:change=on_cards aria-describedby="model-cards-error" />
                    </label>
                </div>
                <p id="model-cards-error" class="warning" role="alert" hidden=move || card_error.with(Option::is_none)>
                    {move || card_error.get()}
                </p>
                <StaleNote id="models-stale" stale=stale recompute=Callback::new(move |_| run(last_cards.get_value())) />
                <TaskNote session task=session.models name="models" cancel=true />
                <OutageNote session panel=Panel::Models />
                {move || session.models.get().map(|r| {
                    let unit = r.unit;
                    let cards = r.fits.iter().cloned().map(|f| view! { <FitCard f unit /> }).collect_view();
                    let given = r.given.iter().cloned().map(|g| view! { <GivenCard g unit /> }).collect_view();
                    // Models refused before any fit (too little data…): said, not dropped.
                    let refused = r.failed.iter().filter(|(m, _)| !r.fits.iter().any(|f| f.model == *m)).map(|(m, why)| {
                        view! { <NotFitted model=*m why=why.clone() /> }
                    }).collect_view();
                    let spend = r.spend.clone().map(|f| view! { <FitCard f unit /> });
                    // A spend fit that ran says its diagnosis on its card; only one refused before fitting needs words here.
                    let spend_error = r.spend_error.clone().filter(|_| r.spend.is_none()).map(|e| view! { <p class="warning">{e}</p> });
                    let frequency = r.frequency.iter().find(|(m, _)| *m == ModelId::Pnbd).or(r.frequency.first()).map(|(m, bins)| {
                        let groups = bins.iter().map(|b| (b.repeat_purchases.clone(), b.expected, b.actual)).collect();
                        view! {
                            <h3>{format!("Does {} reproduce who bought how often? (calibration period)", m.label())}</h3>
                            <PairedBars id="frequency-chart" title="Customers by number of repeat purchases: the model's expectation and the data".to_string() group_label="repeat purchases".to_string() groups names=("expected customers".to_string(), "actual customers".to_string()) />
                        }
                    });
                    view! {
                        <p class="hint" id="models-summary">
                            {horizon_sentence(&r)}
                        </p>
                        <Leaderboard board=r.leaderboard.clone() session />
                        <div class="fits">{given}{cards}{refused}{spend}</div>
                        {spend_error}
                        {frequency}
                    }
                })}
            </section>
        </Later></Show>
    }
}

/// What the predictions are over and how CLV was discounted, in words.
fn horizon_sentence(r: &ModelsResult) -> String {
    let unit = r.unit.name();
    let rate = format!("{}% a year", format::fixed(100.0 * r.annual_discount_rate, 1));
    let value = match r.discounting {
        Discounting::PerPeriod => format!("CLV discounted at {rate}, {unit} by {unit}"),
        Discounting::LifetimesMonthly => {
            format!(
                "CLV over {} whole months as the lifetimes package sums it, discounted at {rate} month by month",
                r.months
            )
        }
    };
    let groups = if r.rows > 0 && r.rows != r.customers {
        format!(" ({} rows of identical customers)", format::int(r.rows as u64))
    } else {
        String::new()
    };
    format!(
        "{} customers{groups}. Predictions over the next {} {unit}s; {value}.",
        format::int(r.customers as u64),
        format::fixed(r.horizon_units, 2)
    )
}

/// The converged count models ranked by BIC, with the Accuracy view's holdout log score when
/// it has one, and why the first leads.
#[component]
fn Leaderboard(board: Vec<Standing>, session: Session) -> impl IntoView {
    if board.len() < 2 {
        return ().into_any();
    }
    let verdict = verdict(&board).unwrap_or_default();
    let log_score = move |m: ModelId| {
        session.holdout.with(|h| {
            h.as_ref().and_then(|h| h.models.iter().find(|s| s.model == m)).map(|s| format::fixed(s.log_score, 3))
        })
    };
    // A model ranked in a limit says which under the table: the sentence is too long for a cell
    // on a phone.
    let limits: Vec<(ModelId, String)> = board.iter().filter_map(|s| s.limit.clone().map(|l| (s.model, l))).collect();
    let rows = board
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let best = (i == 0).then(|| view! { " " <span class="badge">"best on your data"</span> });
            let limit = s.limit.is_some().then(|| view! { " " <span class="badge">"in a limit, see below"</span> });
            view! {
                <tr data-model=s.model.code() class:best=i == 0>
                    <td class="num">{(i + 1).to_string()}</td>
                    <td>{s.model.label()}{limit}{best}</td>
                    <td class="num">{s.params.to_string()}</td>
                    <td class="num">{format::fixed(s.log_likelihood, 2)}</td>
                    <td class="num">{format::fixed(s.aic, 2)}</td>
                    <td class="num">{format::fixed(s.bic, 2)}</td>
                    <td class="num">{format::fixed(s.delta_bic, 2)}</td>
                    <td class="num">{move || log_score(s.model).unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>"Which model fits your data best?"</h3>
        <p class="hint">"Lower AIC and BIC are better: each rewards a high log-likelihood and charges for every parameter, BIC more so on larger data. ΔBIC above 10 is very strong evidence, 2–6 positive, below 2 none. The holdout log score (higher is better) comes from the Accuracy view: how probable each customer's actual purchases after its own cutoff were."</p>
        <div class="scroll" tabindex="0"><table id="leaderboard">
            <thead><tr><th>"rank"</th><th>"model"</th><th>"parameters"</th><th><Term word=Word::LogLikelihood /></th><th><Term word=Word::Aic /></th><th><Term word=Word::Bic /></th><th><Term word=Word::Bic text="ΔBIC" /></th><th><Term word=Word::LogScore text="holdout log score" /></th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        {(!limits.is_empty()).then(|| view! {
            <ul id="leaderboard-limits" class="hint">
                {limits.into_iter().map(|(m, l)| view! { <li>{format!("{} is ranked in the limit its fit reached: {l}.", m.label())}</li> }).collect_view()}
            </ul>
        })}
        <p id="leaderboard-verdict">{verdict}</p>
    }
    .into_any()
}

/// The largest model card read: a card is a few hundred bytes, so a bigger
/// file is a wrong pick, refused before it is read into the page.
const MAX_CARD_BYTES: f64 = 64.0 * 1024.0;

async fn read_card(file: &File) -> Result<NamedCard, String> {
    let name = file.name();
    if file.size() > MAX_CARD_BYTES {
        return Err(format!("{name}: {} bytes is not a model card (a card is a small JSON file)", file.size()));
    }
    let text = JsFuture::from(file.text()).await.map_err(|e| format!("{name}: could not read the file: {e:?}"))?;
    parse_card(&name, &text.as_string().unwrap_or_default())
}

/// A card file's text as a card, or what is wrong with it.
fn parse_card(file_name: &str, text: &str) -> Result<NamedCard, String> {
    let card: ModelCard = serde_json::from_str(text).map_err(|e| {
        format!("{file_name}: not a model card (the JSON that \"Download model card\" or `clv fit --json` writes): {e}")
    })?;
    Ok(NamedCard { file_name: file_name.to_string(), card })
}

/// A model used at a card's parameters: said to be given, never shown as a fit.
#[component]
fn GivenCard(g: GivenReport, unit: TimeUnit) -> impl IntoView {
    let per = if g.model == ModelId::Gg { String::new() } else { format!(", rates per {}", unit.name()) };
    let rows = g
        .params
        .iter()
        .map(|(name, value)| view! { <tr><td>{name.clone()}</td><td class="num">{format::estimate(*value, 4)}</td></tr> })
        .collect_view();
    view! {
        <div class="fit given" data-model=g.model.code()>
            <h3>{g.model.label()} " " <span class="badge">"from a model card"</span></h3>
            <p class="hint">{format!("Parameters from {}{per}, used as given: not fitted to this data, so there are no standard errors.", g.file_name)}</p>
            <div class="scroll" tabindex="0"><table class="params">
                <thead><tr><th>"parameter"</th><th>"value"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        </div>
    }
}

#[component]
fn NotFitted(model: ModelId, why: String) -> impl IntoView {
    view! {
        <div class="fit failed" data-model=model.code()>
            <h3>{model.label()} " " <span class="badge">"not fitted"</span></h3>
            <p class="warning">{format!("Not a result: {why}")}</p>
        </div>
    }
}

#[component]
fn FitCard(f: FitReport, unit: TimeUnit) -> impl IntoView {
    let ok = f.convergence.converged;
    // The model card: what `clv predict --model-card` reads; made and saved in the tab.
    let card = serde_json::to_string_pretty(&ModelCard::of_fit(&f, unit)).unwrap_or_default() + "\n";
    let file = format!("model_card_{}.json", f.model.code());
    let save = move |_| {
        if let Err(e) = download(&file, &card) {
            web_sys::console::error_1(&e);
        }
    };
    let warnings = f.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view();
    let limiting = f.limiting.clone().map(|l| view! { <LimitingCard l=*l /> });
    view! {
        <div class="fit" class:failed=!ok data-model=f.model.code()>
            <h3>{f.model.label()} " "
                <span class="badge">{f.convergence.status()}</span>
            </h3>
            {if ok {
                view! {
                    <ParamTable params=f.params.clone() />
                    <button class="button secondary card-download" data-model=f.model.code() on:click=save>"Download model card (JSON)"</button>
                    <p class="hint">{format!("log-likelihood {:.4} · {} iterations ({}) · gradient {:.1e} · {} customers, {} distinct",
                        f.log_likelihood, f.convergence.iterations, f.convergence.method, f.convergence.gradient_norm,
                        format::int(f.n_customers as u64), format::int(f.n_unique as u64))}</p>
                }.into_any()
            } else {
                view! { <p class="warning">{format!("Not a result: {}", f.convergence.message)}</p> }.into_any()
            }}
            {limiting}
            <ul class="warnings">{warnings}</ul>
        </div>
    }
}

/// The simpler model a boundary fit tends to, fitted: what this data does identify.
#[component]
fn LimitingCard(l: LimitingFit) -> impl IntoView {
    let status = if l.convergence.converged { "fitted" } else { "did not converge" };
    view! {
        <div class="limiting">
            <h4>"What this data does identify — the simpler model, " {status}</h4>
            <p>{l.description.clone()}</p>
            <ParamTable params=l.params.clone() />
            <p class="hint">{format!("log-likelihood {:.4} · {}", l.log_likelihood, l.convergence.message)}</p>
        </div>
    }
}

#[component]
fn ParamTable(params: Vec<ParamEstimate>) -> impl IntoView {
    let rows = params
        .iter()
        .map(|p| {
            let se = p.std_error.map_or("n/a".to_string(), |s| format::estimate(s, 4));
            let ci = match (p.ci_low, p.ci_high) {
                (Some(a), Some(b)) => format!("[{}, {}]", format::estimate(a, 3), format::estimate(b, 3)),
                _ => "—".into(),
            };
            view! { <tr><td>{p.name.clone()}</td><td class="num">{format::estimate(p.value, 4)}</td><td class="num">{"± "}{se}</td><td class="num">{ci}</td></tr> }
        })
        .collect_view();
    view! {
        <div class="scroll" tabindex="0"><table class="params">
            <thead><tr><th>"parameter"</th><th>"estimate"</th><th>"SE"</th><th>"95% CI"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
    }
}
