//! Frequency × recency: how a fitted model reads a purchase history. For customers of one age,
//! P(still a customer) and the expected purchases over the horizon on a grid of how often they
//! bought again and when they last did, with iso-value lines.

use super::charts::{nice_max, HeatMap};
use super::format;
use super::pick::{keep_or_first, usable_models, ModelSelect};
use super::{Later, TaskNote};
use crate::page::session::Session;
use crate::protocol::ExploreView;
use clv_core::explore::FrequencyRecency;
use clv_core::pipeline::ModelKind;
use leptos::prelude::*;

#[component]
pub fn ExplorePanel(session: Session) -> impl IntoView {
    let model = RwSignal::new(ModelKind::Pnbd);
    let age = RwSignal::new(None::<f64>);
    let available = move || usable_models(session);
    // A new fit: the first usable model (the one shown, if still there), at the median age.
    Effect::new(move |_| {
        if let Some(k) = keep_or_first(session, model) {
            age.set(None);
            session.explore_view(k, None);
        }
    });
    let ask = move || session.explore_view(model.get_untracked(), age.get_untracked());
    view! {
        <Show when=move || !available().is_empty()><Later>
            <section id="explore" class="panel">
                <h2>"Frequency × recency: how the model reads a history"</h2>
                <p class="hint">"For customers who joined the same time ago: the chance they are still buying, and how many purchases to expect, by how often they bought again (up) and how long after joining they last bought (across). A frequent buyer who went quiet — top left — is the one at risk."</p>
                <div class="controls">
                    <ModelSelect session id="explore-model" model changed=Callback::new(move |_| ask()) />
                    <label>"Customers who joined "
                        <select id="explore-t" on:change=move |ev| { age.set(event_target_value(&ev).parse().ok()); ask(); }>
                            {move || session.explore.with(|v| v.map(|v| {
                                let unit = v.unit.name();
                                let shown = v.grid.t;
                                v.t_choices.iter().map(|&t| view! {
                                    <option value=t.to_string() selected=t == shown>{format!("{} {unit}s ago", format::fixed(t, 1))}</option>
                                }).collect_view()
                            }))}
                        </select>
                    </label>
                </div>
                <TaskNote session task=session.explore name="explore" />
                {move || session.explore.get().map(|v| view! { <ExploreBody v /> })}
            </section>
        </Later></Show>
    }
}

/// What the two heat maps of a frequency × recency grid are labelled and scaled by (the explorer's
/// and the lesson's): row and column labels, the expected purchases' colour scale and its
/// contour levels (a quarter, half and three quarters of it).
pub struct GridAxes {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub max_expected: f64,
    pub levels: Vec<f64>,
}

impl GridAxes {
    pub fn of(g: &FrequencyRecency) -> GridAxes {
        let max_expected = nice_max(g.expected.iter().flatten().copied().fold(0.0, f64::max));
        GridAxes {
            rows: g.frequencies.iter().map(u32::to_string).collect(),
            cols: g.recencies.iter().map(|r| format::fixed(*r, 1)).collect(),
            max_expected,
            levels: [0.25, 0.5, 0.75].iter().map(|s| s * max_expected).collect(),
        }
    }
}

#[component]
fn ExploreBody(v: ExploreView) -> impl IntoView {
    let g = &v.grid;
    let unit = v.unit.name();
    let GridAxes { rows, cols, max_expected, levels } = GridAxes::of(g);
    let (age, horizon) = (format::fixed(g.t, 1), format::fixed(g.horizon, 1));
    view! {
        <p id="explore-summary">{format!("{} for customers who made their first purchase {age} {unit}s ago; recency in {unit}s since then. Hover a cell for its value, or show the table.", v.model.id().label())}</p>
        <h3>"P(still a customer)"</h3>
        <HeatMap id="explore-alive" title=format!("P(still a customer) by repeat purchases and recency, customers {age} {unit}s old")
            values=g.p_alive.clone() row_labels=rows.clone() col_labels=cols.clone()
            x_label=format!("recency ({unit}s)") y_label="repeat purchases".to_string() value_label="P(alive)".to_string()
            max=1.0 levels=vec![0.25, 0.5, 0.75] />
        <h3>{format!("Expected purchases in the next {horizon} {unit}s")}</h3>
        <HeatMap id="explore-expected" title=format!("Expected purchases in the next {horizon} {unit}s by repeat purchases and recency, customers {age} {unit}s old")
            values=g.expected.clone() row_labels=rows col_labels=cols
            x_label=format!("recency ({unit}s)") y_label="repeat purchases".to_string() value_label="expected purchases".to_string()
            max=max_expected levels />
    }
}
