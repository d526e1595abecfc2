//! Models at parameters a person gives instead of fitting them: from a paper
//! (BG/NBD on CDNOW: r = 0.243, α = 4.41, a = 0.793, b = 2.43), from another
//! tool, or from an earlier fit's model card (`clv fit --json`). The values go
//! through the model's own validating constructor, so a model built here is
//! as checked as a fitted one.
//!
//! ```
//! use clv_core::models::given::GivenParams;
//! use clv_core::models::{BgNbd, CountModel, Rfm};
//! let p: GivenParams = "r=0.242593, alpha=4.413532, a=0.792886, b=2.425754".parse().unwrap();
//! let m: BgNbd = p.model().unwrap();
//! let e = m.expected_purchases(&Rfm::new(2.0, 30.43, 38.86), 39.0);
//! assert!((e - 1.2259).abs() < 1e-3);
//! ```

use super::{Likelihood, ModelError, ModelId};
use crate::time::TimeUnit;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

/// Why given parameters do not make a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GivenError {
    /// Not of the form `name=value, name=value`.
    #[error("expected name=value pairs separated by commas (e.g. r=0.24,alpha=4.4,a=0.79,b=2.4), got {0:?}")]
    Syntax(String),
    /// A value that is not a number.
    #[error("{name}: {value:?} is not a number")]
    NotANumber {
        /// The parameter.
        name: String,
        /// What was given.
        value: String,
    },
    /// The same parameter twice.
    #[error("{0} is given twice")]
    Duplicate(String),
    /// A name the model does not have.
    #[error("{model} has no parameter {name:?}; its parameters are {expected}")]
    Unknown {
        /// The model.
        model: ModelId,
        /// The name given.
        name: String,
        /// The model's parameter names.
        expected: String,
    },
    /// A parameter of the model that was not given.
    #[error("{model} needs {name} (its parameters are {expected})")]
    Missing {
        /// The model.
        model: ModelId,
        /// The parameter not given.
        name: &'static str,
        /// The model's parameter names.
        expected: String,
    },
    /// The values are not valid for the model (not positive, …).
    #[error(transparent)]
    Invalid(#[from] ModelError),
}

/// Named parameter values as a person gives them (`r=0.24,alpha=4.4`); names
/// are the ones `clv fit` reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GivenParams(BTreeMap<String, f64>);

impl FromStr for GivenParams {
    type Err = GivenError;
    fn from_str(s: &str) -> Result<GivenParams, GivenError> {
        let mut out = BTreeMap::new();
        for pair in s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(|| GivenError::Syntax(s.to_string()))?;
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() {
                return Err(GivenError::Syntax(s.to_string()));
            }
            let v: f64 = value
                .parse()
                .map_err(|_| GivenError::NotANumber { name: name.to_string(), value: value.to_string() })?;
            if out.insert(name.to_string(), v).is_some() {
                return Err(GivenError::Duplicate(name.to_string()));
            }
        }
        if out.is_empty() {
            return Err(GivenError::Syntax(s.to_string()));
        }
        Ok(GivenParams(out))
    }
}

impl From<BTreeMap<String, f64>> for GivenParams {
    fn from(map: BTreeMap<String, f64>) -> GivenParams {
        GivenParams(map)
    }
}

impl GivenParams {
    /// The model `M` at these values: every parameter named once, no other
    /// name, and values its constructor accepts.
    pub fn model<M: Likelihood>(&self) -> Result<M, GivenError> {
        let expected = || M::PARAMS.join(", ");
        if let Some(name) = self.0.keys().find(|k| !M::PARAMS.contains(&k.as_str())) {
            return Err(GivenError::Unknown { model: M::ID, name: name.clone(), expected: expected() });
        }
        let values = M::PARAMS
            .iter()
            .map(|&name| {
                self.0.get(name).copied().ok_or(GivenError::Missing { model: M::ID, name, expected: expected() })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        Ok(M::from_params(&values)?)
    }
}

/// A model and its parameters as a file: what `clv fit --json` writes (its
/// other fields are read past), what the page downloads, what `clv predict
/// --model-card` and the page load. Parameters are per `unit` of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Which model.
    pub model: ModelId,
    /// The time unit the rates are per (`None` in cards from before it was
    /// written: then the data's unit is assumed).
    #[serde(default)]
    pub unit: Option<TimeUnit>,
    /// Parameter values by name.
    pub params: BTreeMap<String, f64>,
    /// `false` when the card is of a fit that did not converge.
    #[serde(default)]
    pub converged: Option<bool>,
}

/// Why a model card cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CardError {
    /// The card is of a fit that was not a result.
    #[error("the card is of a {0} fit that did not converge: it holds no estimate to predict with")]
    NotConverged(ModelId),
    /// The card's rates are per another unit than the data.
    #[error("the card's {model} parameters are per {card}, the data are in {data}s: summarise the data in {card}s (--unit {card})")]
    Unit {
        /// The model.
        model: ModelId,
        /// The card's unit.
        card: TimeUnit,
        /// The data's unit.
        data: TimeUnit,
    },
}

impl ModelCard {
    /// The card of a fit whose rates are per `unit`: its model, estimates and
    /// whether it converged (a card of a fit that did not is refused on use).
    pub fn of_fit(report: &super::FitReport, unit: TimeUnit) -> ModelCard {
        ModelCard {
            model: report.model,
            unit: Some(unit),
            params: report.params.iter().map(|p| (p.name.clone(), p.value)).collect(),
            converged: Some(report.convergence.converged),
        }
    }

    /// The card's parameters, if it may be used with data in `unit`s.
    pub fn params_for(&self, unit: TimeUnit) -> Result<GivenParams, CardError> {
        if self.converged == Some(false) {
            return Err(CardError::NotConverged(self.model));
        }
        match self.unit {
            Some(card) if card != unit && self.model != ModelId::Gg => {
                Err(CardError::Unit { model: self.model, card, data: unit })
            }
            _ => Ok(GivenParams(self.params.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{BgNbd, GammaGamma, ParetoNbd};

    #[test]
    fn parameters_are_named_once_and_checked_by_the_model() {
        let m: BgNbd = "r=0.24; alpha=4.4, a=0.79,b=2.4".parse::<GivenParams>().unwrap().model().unwrap();
        assert_eq!(Likelihood::params(&m), vec![0.24, 4.4, 0.79, 2.4]);
        let e = |s: &str| s.parse::<GivenParams>().and_then(|p| p.model::<BgNbd>()).unwrap_err().to_string();
        assert!(e("r=0.24,alpha=4.4,a=0.79").contains("bgnbd needs b (its parameters are r, alpha, a, b)"));
        assert!(e("r=0.24,alpha=4.4,a=0.79,b=2.4,s=1").contains("no parameter \"s\""));
        assert!(e("r=1,r=2").contains("r is given twice"));
        assert!(e("r=x").contains("\"x\" is not a number"));
        assert!(e("0.24,4.4").contains("expected name=value pairs"));
        assert!(e("").contains("expected name=value pairs"));
        assert!(e("r=-1,alpha=4.4,a=0.79,b=2.4").contains("r"), "the model's own check");
        let p: ParetoNbd = "r=0.55,alpha=10.58,s=0.61,beta=11.67".parse::<GivenParams>().unwrap().model().unwrap();
        assert_eq!(Likelihood::params(&p)[3], 11.67);
        let g: GammaGamma = "p=6.25,q=3.74,gamma=15.44".parse::<GivenParams>().unwrap().model().unwrap();
        assert_eq!(Likelihood::params(&g), vec![6.25, 3.74, 15.44]);
    }

    #[test]
    fn a_fit_s_json_is_a_model_card() {
        // The shape `clv fit --json` writes (fields beyond the card's are read past).
        let json = r#"{"model":"bgnbd","unit":"week","converged":true,"iterations":12,
            "params":{"r":0.2426,"alpha":4.4135,"a":0.7929,"b":2.4258},"std_errors":{"r":0.01}}"#;
        let card: ModelCard = serde_json::from_str(json).unwrap();
        let m: BgNbd = card.params_for(TimeUnit::Week).unwrap().model().unwrap();
        assert_eq!(Likelihood::params(&m), vec![0.2426, 4.4135, 0.7929, 2.4258]);
        let e = card.params_for(TimeUnit::Day).unwrap_err().to_string();
        assert!(e.contains("per week, the data are in days: summarise the data in weeks (--unit week)"), "{e}");
        let failed = ModelCard { converged: Some(false), ..card };
        assert!(failed.params_for(TimeUnit::Week).unwrap_err().to_string().contains("did not converge"));
    }
}
