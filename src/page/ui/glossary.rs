//! The glossary: every technical word the page uses, explained for someone who has never
//! heard of BG/NBD, and a [`Term`] link to it from wherever the word appears. A word is a
//! [`Word`], not a string, so a link cannot point at an entry that does not exist.

use leptos::prelude::*;

/// A word the glossary explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    Cutoff,
    Horizon,
    DiscountRate,
    Frequency,
    Recency,
    T,
    MonetaryValue,
    PAlive,
    Clv,
    Calibration,
    Holdout,
    LogLikelihood,
    Aic,
    Bic,
    LogScore,
    Bias,
    Mae,
    Rmse,
    Mase,
    Pearson,
    Spearman,
    Gini,
    Decile,
    Lorenz,
    ParameterRange,
    BgNbd,
    ParetoNbd,
    GammaGamma,
    Sbg,
}

impl Word {
    pub const ALL: [Word; 29] = [
        Word::Cutoff,
        Word::Horizon,
        Word::DiscountRate,
        Word::Frequency,
        Word::Recency,
        Word::T,
        Word::MonetaryValue,
        Word::PAlive,
        Word::Clv,
        Word::Calibration,
        Word::Holdout,
        Word::LogLikelihood,
        Word::Aic,
        Word::Bic,
        Word::LogScore,
        Word::Bias,
        Word::Mae,
        Word::Rmse,
        Word::Mase,
        Word::Pearson,
        Word::Spearman,
        Word::Gini,
        Word::Decile,
        Word::Lorenz,
        Word::ParameterRange,
        Word::BgNbd,
        Word::ParetoNbd,
        Word::GammaGamma,
        Word::Sbg,
    ];

    /// The entry's element id.
    pub fn id(self) -> String {
        let stem: String =
            self.term().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        format!("glossary-{}", stem.split('-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-"))
    }

    /// The word as the page writes it.
    pub fn term(self) -> &'static str {
        match self {
            Word::Cutoff => "cutoff",
            Word::Horizon => "horizon",
            Word::DiscountRate => "discount rate",
            Word::Frequency => "frequency",
            Word::Recency => "recency",
            Word::T => "T",
            Word::MonetaryValue => "monetary value",
            Word::PAlive => "P(alive)",
            Word::Clv => "CLV",
            Word::Calibration => "calibration period",
            Word::Holdout => "holdout",
            Word::LogLikelihood => "log-likelihood",
            Word::Aic => "AIC",
            Word::Bic => "BIC",
            Word::LogScore => "log score",
            Word::Bias => "bias",
            Word::Mae => "MAE",
            Word::Rmse => "RMSE",
            Word::Mase => "MASE",
            Word::Pearson => "Pearson",
            Word::Spearman => "Spearman",
            Word::Gini => "Gini",
            Word::Decile => "decile",
            Word::Lorenz => "Lorenz curve",
            Word::ParameterRange => "range from parameter uncertainty",
            Word::BgNbd => "BG/NBD",
            Word::ParetoNbd => "Pareto/NBD",
            Word::GammaGamma => "Gamma–Gamma",
            Word::Sbg => "sBG",
        }
    }

    /// What it means, in plain words.
    pub fn meaning(self) -> &'static str {
        match self {
            Word::Cutoff => "The last day of history the models may see. Everything after it is the future they predict (or, in the accuracy check, what their predictions are compared with).",
            Word::Horizon => "How far ahead the forecast looks from the cutoff, e.g. the next 12 months.",
            Word::DiscountRate => "How much less money next year is worth than money today, per year. 10% means a dollar a year from now counts as about 91 cents in CLV.",
            Word::Frequency => "A customer's repeat purchases up to the cutoff: the number of days with a purchase, minus the first one. A one-time buyer has frequency 0.",
            Word::Recency => "The time from a customer's first purchase to their last one (0 for one-time buyers). A long recency means they bought until recently.",
            Word::T => "A customer's age at the cutoff: the time from their first purchase to the cutoff.",
            Word::MonetaryValue => "The average amount of a customer's repeat purchases (the first purchase is left out, as the spend model expects).",
            Word::PAlive => "The model's probability that a customer has not quietly left: that they would still buy if the time came. Nobody announces they are leaving; the model infers it from a silence that is long for that customer.",
            Word::Clv => "Customer lifetime value: the money a customer is expected to bring over the horizon, discounted to today — expected purchases times expected spend per purchase.",
            Word::Calibration => "In the accuracy check, the data the models are fitted on: everything up to the calibration end.",
            Word::Holdout => "In the accuracy check, the data after the calibration end that the models did not see: their predictions are compared with what customers actually did in it.",
            Word::LogLikelihood => "How probable the model finds the data at its best parameters (a log, so negative; higher is better). It grows with the number of customers, so compare it only on the same data.",
            Word::Aic => "Akaike's information criterion: −2 × log-likelihood + 2 × parameters. Lower is better; it charges each parameter a little.",
            Word::Bic => "Bayesian information criterion: −2 × log-likelihood + parameters × ln(customers). Lower is better; it charges each parameter more on larger data. A difference (ΔBIC) above 10 is very strong evidence.",
            Word::LogScore => "The average log of the probability the model gave to what each customer actually did in the holdout. Higher (closer to 0) is better; it rewards honest uncertainty, not only a good average.",
            Word::Bias => "How far the predicted total is from the actual total, in percent. For budgets and totals.",
            Word::Mae => "Mean absolute error: the average size of the miss per customer. It is smallest for the median forecast.",
            Word::Rmse => "Root mean squared error: like MAE but big misses count more. It is smallest for the mean forecast.",
            Word::Mase => "Mean absolute scaled error: the forecast's MAE divided by that of a simple seasonal guess (same weekday last week). Below 1 beats the guess.",
            Word::Pearson => "Correlation of predicted and actual counts (−1 to 1): whether high predictions go with high actuals, in a straight line.",
            Word::Spearman => "Rank correlation (−1 to 1): does the model put customers in the right order? What matters for targeting.",
            Word::Gini => "How concentrated something is, 0 (everyone equal) to 1 (one has all). For a forecast: how much of the actual purchases the customers ranked highest hold.",
            Word::Decile => "A tenth of the customers. Ranked by prediction, decile 1 is the tenth the model expects most from.",
            Word::ParameterRange => "The models' parameters are estimated from your data, so they are uncertain; with other customers from the same population they would come out a little different. The range shows how far the total could move from that alone (95%: the fits' standard errors carried through to the total). It does not cover a wrong model or a future unlike the past.",
            Word::Lorenz => "Customers ranked from most to least valuable, and the share of total value the top x% hold. The further above the diagonal, the more concentrated.",
            Word::BgNbd => "Beta-geometric/NBD (Fader, Hardie & Lee 2005): while active, each customer buys at their own steady rate; after each purchase they may leave for good with their own probability.",
            Word::ParetoNbd => "Pareto/NBD (Schmittlein, Morrison & Colombo 1987): like BG/NBD, but customers may leave at any moment, not only right after a purchase.",
            Word::GammaGamma => "The spend model (Fader, Hardie & Lee 2005): each customer has their own typical order value; it assumes spend does not depend on how often they buy.",
            Word::Sbg => "Shifted beta-geometric (Fader & Hardie 2007): for cohorts, the share still active each period when each member has their own chance of leaving per period.",
        }
    }
}

/// A word in the page, linked to its glossary entry: following it moves focus to the entry
/// (the URL's fragment keeps the settings, so the link scrolls without changing it).
#[component]
pub fn Term(
    word: Word,
    #[prop(optional, into)] text: Option<String>,
    /// A "?" beside a control (a link cannot sit inside a button or replace a label).
    #[prop(optional)]
    help: bool,
) -> impl IntoView {
    let id = word.id();
    let go = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        let doc = web_sys::window().and_then(|w| w.document());
        if let Some(el) = doc.and_then(|d| d.get_element_by_id(&word.id())) {
            el.scroll_into_view();
            if let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) {
                let _ = el.focus();
            }
        }
    };
    if help {
        let label = format!("What is {}?", word.term());
        return view! { <a class="term help" href=format!("#{id}") on:click=go title=word.meaning() aria-label=label>"?"</a> }.into_any();
    }
    view! { <a class="term" href=format!("#{id}") on:click=go title=word.meaning()>{text.unwrap_or_else(|| word.term().to_string())}</a> }
        .into_any()
}

/// Every entry, in the page's order of use.
#[component]
pub fn Glossary() -> impl IntoView {
    let entries = Word::ALL
        .into_iter()
        .map(|w| view! { <dt id=w.id() tabindex="-1">{w.term()}</dt><dd>{w.meaning()}</dd> })
        .collect_view();
    view! {
        <section id="glossary" class="panel">
            <h2>"Glossary"</h2>
            <p class="hint">"Every underlined word on this page links here."</p>
            <dl class="glossary">{entries}</dl>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_has_its_own_entry() {
        let ids: Vec<String> = Word::ALL.iter().map(|w| w.id()).collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert_eq!(Word::PAlive.id(), "glossary-p-alive");
        assert_eq!(Word::T.id(), "glossary-t");
        assert!(Word::ALL.iter().all(|w| w.meaning().len() > 40 && w.meaning().ends_with('.')));
    }
}
