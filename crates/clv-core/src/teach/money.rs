//! The lesson's fifth step: from purchases to money. One customer valued twice over the same
//! years — with the simple formula (their average purchase × how often they have bought × the
//! years) and with the models (Gamma–Gamma's expected spend × BG/NBD's discounted expected
//! purchases, which weigh in whether they are still a customer).
//!
//! Gamma–Gamma: Fader, Hardie & Lee (2005), "RFM and CLV", and Hardie's note 025 eq. 5 — a
//! customer's expected spend is their own mean pulled toward the population's, the less so the
//! more purchases it rests on. Discounting as everywhere in the tool ([`crate::clv`]).
//!
//! ```
//! use clv_core::models::{BgNbd, GammaGamma, Rfm};
//! use clv_core::teach::money::{value_one_customer, Customer};
//! let bgnbd = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
//! let spend = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
//! // 10 repeat purchases in a year, the last one a week ago, $35 each on average; 2 years, 10%.
//! let c = Customer::new(10.0, 51.0, 52.0, 35.0).unwrap();
//! let v = value_one_customer(&bgnbd, &spend, &c, 2.0, 0.10).unwrap();
//! assert!(v.model < v.simple);
//! ```

use serde::{Deserialize, Serialize};

use super::{checked, TeachError, WEEKS_PER_YEAR};
use crate::clv::{discounted_clv, ClvParams, Discounting};
use crate::models::{BgNbd, CountModel, GammaGamma, Rfm};
use crate::time::{HorizonUnit, PredictionHorizon, TimeUnit};

/// The customer the lesson values: repeat purchases, week of the last one, weeks since the first,
/// and the mean of their purchases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Customer {
    rfm: Rfm,
    mean_spend: f64,
}

impl Customer {
    /// The last purchase is clamped into the customer's time (a slider may run past it) and is 0
    /// without repeat purchases, as in a summary.
    pub fn new(repeat: f64, last_week: f64, age_weeks: f64, mean_spend: f64) -> Result<Customer, TeachError> {
        let x = checked("repeat purchases", repeat, false)?;
        let t = checked("age", age_weeks, true)?;
        let t_x = if x > 0.0 { checked("week of the last purchase", last_week, false)?.min(t) } else { 0.0 };
        Ok(Customer { rfm: Rfm::new(x, t_x, t), mean_spend: checked("average purchase", mean_spend, false)? })
    }
}

/// Both valuations, and the pieces of the model's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TwoValuations {
    /// Purchases a week so far: all purchases (the first too) over the weeks since the first.
    pub per_week: f64,
    /// mean spend × purchases a week × 52 × years: no one leaves, no discount.
    pub simple: f64,
    /// P(still a customer) now (BG/NBD).
    pub p_alive: f64,
    /// Expected purchases over the years (BG/NBD, conditional on the history), undiscounted.
    pub purchases: f64,
    /// Gamma–Gamma's expected value of a purchase.
    pub spend: f64,
    /// The population's mean purchase (the new customer's), `None` when q ≤ 1.
    pub population_spend: Option<f64>,
    /// spend × the discounted expected purchases.
    pub model: f64,
}

/// Value `c` over `years` (52-week years, the simple formula's) at `annual_discount_rate`
/// (0.10 = 10%), both ways.
pub fn value_one_customer(
    bgnbd: &BgNbd,
    spend: &GammaGamma,
    c: &Customer,
    years: f64,
    annual_discount_rate: f64,
) -> Result<TwoValuations, TeachError> {
    let years = checked("years", years, true)?;
    let weeks = years * WEEKS_PER_YEAR;
    let horizon = PredictionHorizon::new(weeks, HorizonUnit::Week).map_err(|_| TeachError::OutOfRange {
        name: "years",
        min: 0.0,
        value: years,
    })?;
    let clv = ClvParams::new(horizon, annual_discount_rate, TimeUnit::Week, Discounting::PerPeriod)
        .map_err(|_| TeachError::OutOfRange { name: "discount rate", min: 0.0, value: annual_discount_rate })?;
    let Rfm { x, t, .. } = c.rfm;
    let per_week = (x + 1.0) / t;
    let spend_per_purchase = spend.expected_spend(x, c.mean_spend).or(spend.population_mean()).unwrap_or(0.0);
    Ok(TwoValuations {
        per_week,
        simple: c.mean_spend * per_week * weeks,
        p_alive: bgnbd.p_alive(&c.rfm),
        purchases: bgnbd.expected_purchases(&c.rfm, weeks),
        spend: spend_per_purchase,
        population_spend: spend.population_mean(),
        model: discounted_clv(bgnbd, &c.rfm, spend_per_purchase, &clv),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdnow() -> (BgNbd, GammaGamma) {
        (BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap(), GammaGamma::new(6.25, 3.74, 15.44).unwrap())
    }

    /// By hand: the simple formula is mean × (x + 1)/T × 52 × years; Gamma–Gamma's spend is
    /// p(γ + x m̄)/(px + q − 1) (note 025 eq. 5); with no discount the model's value is that spend
    /// times BG/NBD's conditional expectation.
    #[test]
    fn both_valuations_by_hand() {
        let (m, g) = cdnow();
        let c = Customer::new(4.0, 30.0, 52.0, 20.0).unwrap();
        let v = value_one_customer(&m, &g, &c, 1.0, 0.0).unwrap();
        assert!((v.simple - 20.0 * 5.0 / 52.0 * 52.0).abs() < 1e-12);
        let spend = 6.25 * (15.44 + 4.0 * 20.0) / (6.25 * 4.0 + 3.74 - 1.0);
        assert!((v.spend - spend).abs() < 1e-12, "{}", v.spend);
        let purchases = m.expected_purchases(&Rfm::new(4.0, 30.0, 52.0), 52.0);
        assert!((v.purchases - purchases).abs() < 1e-12);
        assert!((v.model - spend * purchases).abs() < 1e-9 * v.model, "{} vs {}", v.model, spend * purchases);
        assert_eq!(v.population_spend, Some(6.25 * 15.44 / 2.74));
    }

    /// The lesson's point: the same buyer is worth much less once they went quiet, while the simple
    /// formula cannot tell the two apart; discounting lowers the model's value.
    #[test]
    fn the_quiet_customer_is_worth_less_and_discounting_lowers_the_value() {
        let (m, g) = cdnow();
        let recent = value_one_customer(&m, &g, &Customer::new(10.0, 51.0, 52.0, 35.0).unwrap(), 2.0, 0.1).unwrap();
        let quiet = value_one_customer(&m, &g, &Customer::new(10.0, 13.0, 52.0, 35.0).unwrap(), 2.0, 0.1).unwrap();
        assert_eq!(recent.simple, quiet.simple);
        assert!(quiet.model < 0.05 * recent.model && quiet.p_alive < 0.01, "{quiet:?} {recent:?}");
        let undiscounted =
            value_one_customer(&m, &g, &Customer::new(10.0, 51.0, 52.0, 35.0).unwrap(), 2.0, 0.0).unwrap();
        assert!(recent.model < undiscounted.model);
        // No repeat purchase: the population's mean purchase, and the last week does not matter.
        let once = value_one_customer(&m, &g, &Customer::new(0.0, 40.0, 52.0, 35.0).unwrap(), 2.0, 0.1).unwrap();
        assert_eq!(Some(once.spend), once.population_spend);
        assert_eq!(once.p_alive, 1.0);
    }

    #[test]
    fn inputs_out_of_range_are_refused_by_name() {
        assert!(Customer::new(1.0, 1.0, 0.0, 10.0).unwrap_err().to_string().starts_with("age must be"));
        let (m, g) = cdnow();
        let c = Customer::new(1.0, 80.0, 52.0, 10.0).unwrap();
        assert!(value_one_customer(&m, &g, &c, 0.0, 0.1).is_err());
        assert!(value_one_customer(&m, &g, &c, 1.0, f64::NAN).is_err());
    }
}
