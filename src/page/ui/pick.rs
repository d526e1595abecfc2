//! The model picker the Customers, Frequency × recency and Value views share: the count models
//! a fit left usable (or a card gave), by name.

use crate::page::session::Session;
use clv_core::pipeline::ModelKind;
use leptos::prelude::*;

/// The count models a fit left usable, as the page names them.
pub fn usable_models(session: Session) -> Vec<ModelKind> {
    session.models.with(kinds)
}

/// The same, without subscribing to the fit.
pub fn usable_models_untracked(session: Session) -> Vec<ModelKind> {
    session.models.with_untracked(kinds)
}

fn kinds(m: Option<&crate::protocol::ModelsResult>) -> Vec<ModelKind> {
    m.map_or(Vec::new(), |r| r.usable_count_models().into_iter().filter_map(ModelKind::from_id).collect())
}

/// After a fit: the model shown if the fit still has it usable, else the first usable one (set
/// in `model`), or `None` when none is.
pub fn keep_or_first(session: Session, model: RwSignal<ModelKind>) -> Option<ModelKind> {
    let kinds = usable_models(session);
    let k = kinds.iter().copied().find(|k| *k == model.get_untracked()).or(kinds.first().copied())?;
    model.set(k);
    Some(k)
}

/// "Model [select]": sets `model` and then runs `changed`.
#[component]
pub fn ModelSelect(
    session: Session,
    id: &'static str,
    model: RwSignal<ModelKind>,
    changed: Callback<()>,
) -> impl IntoView {
    view! {
        <label>"Model "
            <select id=id on:change=move |ev| {
                if let Ok(k) = event_target_value(&ev).parse() { model.set(k); changed.run(()); }
            }>
                {move || usable_models(session).into_iter().map(|k| view! {
                    <option value=k.code() selected=model.get_untracked() == k>{k.id().label()}</option>
                }).collect_view()}
            </select>
        </label>
    }
}
