//! Per-customer lifetime value: a count model (how many purchases) times a
//! spend model (how much each), discounted month by month exactly as
//! `lifetimes`' `customer_lifetime_value` does, so numbers can be compared.

use crate::limits::{DISCOUNT_RATE_RANGE, MAX_DISCRETE_HORIZON_PERIODS};
use crate::models::gamma_gamma::GammaGamma;
use crate::models::{summarise_pmf, CountModel, PmfSummary, Rfm};
use crate::time::{Horizon, TimeUnit};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Time units per month in `lifetimes`' CLV loop (`freq` D/W/M: 30, 4.345, 1).
pub fn units_per_month(unit: TimeUnit) -> f64 {
    match unit {
        TimeUnit::Day => 30.0,
        TimeUnit::Week => 4.345,
        TimeUnit::Month => 1.0,
    }
}

/// CLV settings, valid by construction: the horizon is a checked
/// [`Horizon`], the discount rate is checked by [`ClvParams::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClvParams {
    /// Whole months summed (the horizon in days / 30, rounded, at least 1).
    months: u32,
    /// Monthly discount rate, from the annual rate the user gives.
    monthly_discount: f64,
    unit: TimeUnit,
}

/// Why CLV settings were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClvError {
    /// The annual discount rate is not a number in [`DISCOUNT_RATE_RANGE`].
    #[error("annual discount rate must be a number from {low} to {high} (e.g. 0.10 for 10% a year), got {rate:?}", low = DISCOUNT_RATE_RANGE.0, high = DISCOUNT_RATE_RANGE.1)]
    DiscountRate {
        /// The rate given.
        rate: f64,
    },
    /// A discrete-time model would step through more periods than allowed.
    #[error("BG/BB predicts period by period: a horizon of {months} months is {periods:.0} periods of a {unit}, more than the {MAX_DISCRETE_HORIZON_PERIODS} allowed; use a shorter horizon or a coarser unit")]
    TooManyPeriods {
        /// The horizon in months.
        months: u32,
        /// The horizon in periods of `unit`.
        periods: f64,
        /// The model's period.
        unit: TimeUnit,
    },
}

fn units_per_year(unit: TimeUnit) -> f64 {
    365.25 / unit.days()
}

impl ClvParams {
    /// CLV over `horizon`, discounted monthly at the equivalent of
    /// `annual_discount_rate` (0.10 = 10% a year), for a model fitted in `unit`s.
    pub fn new(horizon: Horizon, annual_discount_rate: f64, unit: TimeUnit) -> Result<ClvParams, ClvError> {
        let (low, high) = DISCOUNT_RATE_RANGE;
        if !(annual_discount_rate.is_finite() && (low..=high).contains(&annual_discount_rate)) {
            return Err(ClvError::DiscountRate { rate: annual_discount_rate });
        }
        Ok(ClvParams {
            months: ((horizon.in_days() as f64 / 30.0).round() as u32).max(1),
            monthly_discount: (1.0 + annual_discount_rate).powf(1.0 / 12.0) - 1.0,
            unit,
        })
    }

    /// Whole months summed (the horizon in days / 30, rounded, at least 1),
    /// as `lifetimes` does.
    pub fn months(&self) -> u32 {
        self.months
    }

    /// The monthly discount rate equivalent to the annual one given.
    pub fn monthly_discount(&self) -> f64 {
        self.monthly_discount
    }

    /// The time unit of the models valued.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Discrete-time models predict period by period: the horizon in
    /// periods is bounded by [`MAX_DISCRETE_HORIZON_PERIODS`].
    pub fn check_discrete(&self) -> Result<(), ClvError> {
        let periods = self.horizon_units();
        if periods > MAX_DISCRETE_HORIZON_PERIODS {
            return Err(ClvError::TooManyPeriods { months: self.months, periods, unit: self.unit });
        }
        Ok(())
    }

    /// The same rate as a continuous rate per time unit (for DERT); `None`
    /// without discounting, where DERT is infinite.
    pub fn continuous_rate(&self) -> Option<f64> {
        let annual = (1.0 + self.monthly_discount).powi(12);
        (annual > 1.0).then(|| annual.ln() / units_per_year(self.unit))
    }

    /// The horizon in model time units.
    pub fn horizon_units(&self) -> f64 {
        f64::from(self.months) * units_per_month(self.unit)
    }
}

/// Σ_{m=1..M} spend · (E[Y(m·k)] − E[Y((m−1)·k)]) / (1 + d)^m, with k units per month.
pub fn discounted_clv(model: &dyn CountModel, c: &Rfm, spend: f64, p: &ClvParams) -> f64 {
    spend * discounted_purchases(p, |t| model.expected_purchases(c, t))
}

/// Σ_{m=1..M} (E(m·k) − E((m−1)·k)) / (1 + d)^m for a cumulative expectation E.
fn discounted_purchases(p: &ClvParams, expected: impl Fn(f64) -> f64) -> f64 {
    let k = units_per_month(p.unit);
    let (mut prev, mut sum) = (0.0, 0.0);
    for m in 1..=p.months {
        let e = expected(f64::from(m) * k);
        sum += (e - prev) / (1.0 + p.monthly_discount).powi(m as i32);
        prev = e;
    }
    sum
}

/// Expected value of a purchase and whether it is the backfilled population
/// mean: Gamma–Gamma's conditional mean for a repeat buyer with positive
/// mean spend, its population mean otherwise. `None` without a spend model.
pub fn spend_per_purchase(spend: Option<&GammaGamma>, x: f64, mean: f64) -> Option<(f64, bool)> {
    spend.map(|g| {
        if x > 0.0 && mean > 0.0 {
            (g.expected_spend(x, mean).unwrap_or(0.0), false)
        } else {
            (g.population_mean().unwrap_or(0.0), true)
        }
    })
}

/// One customer's prediction at the cutoff, as made by [`value_customers`]: purchases over the
/// horizon of [`ClvParams::months`] whole months after the cutoff; money in the currency of the input
/// amounts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomerValue {
    /// P(alive at T | x, t_x, T): probability, in [0, 1], that the customer is still active at the cutoff.
    pub p_alive: f64,
    /// E[Y(H)]: expected purchases over the horizon.
    pub expected_txn: f64,
    /// Median and 80% interval of the purchase count over the horizon.
    pub txn: PmfSummary,
    /// Expected net value of one purchase: Gamma–Gamma's conditional mean for a repeat buyer, its
    /// population mean when `spend_backfilled`; 1 when no spend model is given (CLV then counts
    /// discounted purchases), 0 when the spend model cannot produce a value.
    pub expected_spend: f64,
    /// True when the spend is the population mean (no repeat purchase to learn from).
    pub spend_backfilled: bool,
    /// Discounted lifetime value over the horizon: `expected_spend × p_alive × discounted purchases if alive`,
    /// the same sum as [`discounted_clv`] (`lifetimes`' `customer_lifetime_value`).
    pub clv: f64,
}

/// Largest count kept in a predictive distribution; beyond, the tail is lumped.
pub(crate) fn pmf_cap(mean: f64) -> usize {
    ((mean + 12.0 * (mean + 1.0).sqrt() + 10.0).ceil() as usize).min(20_000)
}

/// What a customer alive at T would do: depends on the row only through
/// (x, T), so it is computed once per distinct pair (8.4k for 1M simulated
/// customers with 160k distinct (x, t_x, T)) and shared.
struct IfAlive {
    expected: f64,
    pmf: Vec<f64>,
    /// Σ_m ΔE[Y | alive]/(1+d)^m: discounted purchases per unit of spend.
    discounted: f64,
}

fn if_alive(model: &dyn CountModel, c: &Rfm, p: &ClvParams) -> IfAlive {
    let expected = model.expected_if_alive(c, p.horizon_units());
    let discounted = discounted_purchases(p, |t| model.expected_if_alive(c, t));
    IfAlive { expected, pmf: model.pmf_if_alive(c, p.horizon_units(), pmf_cap(expected)), discounted }
}

/// Median and 80% interval of the mixture "dead (0 purchases) or alive".
fn mixture_summary(p_alive: f64, pmf: &[f64]) -> PmfSummary {
    let mut mixed: Vec<f64> = pmf.iter().map(|v| p_alive * v).collect();
    if let Some(first) = mixed.first_mut() {
        *first += 1.0 - p_alive;
    }
    summarise_pmf(&mixed)
}

/// Value every customer: the alive part once per distinct (x, T), P(alive)
/// per row, both in parallel natively. CLV = spend × P(alive) × discounted
/// purchases if alive. `spend`: `None` values each purchase at 1 (counts only).
pub fn value_customers(
    model: &dyn CountModel,
    spend: Option<&GammaGamma>,
    rows: &[(Rfm, f64)],
    p: &ClvParams,
) -> Vec<CustomerValue> {
    let mut index: FxHashMap<[u64; 2], u32> = FxHashMap::default();
    let mut keys: Vec<Rfm> = Vec::new();
    let slot: Vec<u32> = rows
        .iter()
        .map(|(c, _)| {
            *index.entry([c.x.to_bits(), c.t.to_bits()]).or_insert_with(|| {
                keys.push(*c);
                keys.len() as u32 - 1
            })
        })
        .collect();
    let alive: Vec<IfAlive> = keys.par_iter().map(|c| if_alive(model, c, p)).collect();
    rows.par_iter()
        .zip(&slot)
        .map(|((c, m), &k)| {
            let a = &alive[k as usize];
            let p_alive = model.p_alive(c);
            let (expected_spend, spend_backfilled) = spend_per_purchase(spend, c.x, *m).unwrap_or((1.0, false));
            CustomerValue {
                p_alive,
                expected_txn: p_alive * a.expected,
                txn: mixture_summary(p_alive, &a.pmf),
                expected_spend,
                spend_backfilled,
                clv: expected_spend * p_alive * a.discounted,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::BgNbd;

    fn days(n: i64) -> Horizon {
        Horizon::days(n).unwrap()
    }

    #[test]
    fn undiscounted_clv_is_spend_times_expected_purchases() {
        let m = BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap();
        let c = Rfm::new(2.0, 30.43, 38.86);
        let p = ClvParams::new(days(365), 0.0, TimeUnit::Week).unwrap();
        assert_eq!(p.months, 12);
        let clv = discounted_clv(&m, &c, 10.0, &p);
        let e = m.expected_purchases(&c, 12.0 * 4.345);
        assert!((clv - 10.0 * e).abs() < 1e-9);
        // discounting lowers it, more for higher rates
        let d10 = discounted_clv(&m, &c, 10.0, &ClvParams::new(days(365), 0.10, TimeUnit::Week).unwrap());
        let d30 = discounted_clv(&m, &c, 10.0, &ClvParams::new(days(365), 0.30, TimeUnit::Week).unwrap());
        assert!(d30 < d10 && d10 < clv);
        assert!(Horizon::days(0).is_err());
        assert!(ClvParams::new(days(90), -1.5, TimeUnit::Week).is_err());
        let monthly = ClvParams::new(days(90), 0.1268250301319698, TimeUnit::Day).unwrap().monthly_discount;
        assert!((monthly - 0.01).abs() < 1e-12);
    }

    #[test]
    fn horizon_and_rate_are_bounded() {
        let e = Horizon::days(1_000_000).unwrap_err().to_string();
        assert!(e.contains("1 to 3650 days") && e.contains("1000000"), "{e}");
        assert!(ClvParams::new(days(3650), 0.1, TimeUnit::Week).is_ok());
        for rate in [1e300, -0.999999, 10.5, f64::NAN] {
            let e = ClvParams::new(days(365), rate, TimeUnit::Week).unwrap_err().to_string();
            assert!(e.contains("from -0.5 to 10"), "{rate}: {e}");
        }
        // BG/BB: a year in months is 12 periods, in days 360.
        assert!(ClvParams::new(days(365), 0.0, TimeUnit::Month).unwrap().check_discrete().is_ok());
        let e = ClvParams::new(days(365), 0.0, TimeUnit::Day).unwrap().check_discrete().unwrap_err().to_string();
        assert!(e.contains("360 periods of a day") && e.contains("120"), "{e}");
    }
}
