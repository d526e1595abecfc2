//! Per-customer lifetime value: a count model (how many purchases) times a
//! spend model (how much each), discounted month by month exactly as
//! `lifetimes`' `customer_lifetime_value` does, so numbers can be compared.

use crate::models::gamma_gamma::GammaGamma;
use crate::models::{summarise_pmf, CountModel, ModelError, PmfSummary, Rfm};
use crate::time::TimeUnit;
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

/// Checked CLV settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClvParams {
    /// Whole months summed (the horizon in days / 30, rounded, at least 1).
    pub months: u32,
    /// Monthly discount rate, from the annual rate the user gives.
    pub monthly_discount: f64,
    pub unit: TimeUnit,
}

fn units_per_year(unit: TimeUnit) -> f64 {
    365.25 / unit.days()
}

impl ClvParams {
    pub fn new(horizon_days: f64, annual_discount_rate: f64, unit: TimeUnit) -> Result<ClvParams, ModelError> {
        if !(horizon_days.is_finite() && horizon_days > 0.0) {
            return Err(ModelError::InvalidOption(format!(
                "horizon must be a positive number of days, got {horizon_days}"
            )));
        }
        if !(annual_discount_rate.is_finite() && annual_discount_rate > -1.0) {
            return Err(ModelError::InvalidOption(format!(
                "annual discount rate must be a number above −1 (e.g. 0.10 for 10%), got {annual_discount_rate}"
            )));
        }
        Ok(ClvParams {
            months: ((horizon_days / 30.0).round() as u32).max(1),
            monthly_discount: (1.0 + annual_discount_rate).powf(1.0 / 12.0) - 1.0,
            unit,
        })
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
    let k = units_per_month(p.unit);
    let mut prev = 0.0;
    let mut clv = 0.0;
    for m in 1..=p.months {
        let e = model.expected_purchases(c, f64::from(m) * k);
        clv += spend * (e - prev) / (1.0 + p.monthly_discount).powi(m as i32);
        prev = e;
    }
    clv
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomerValue {
    pub p_alive: f64,
    /// E[Y(H)]: expected purchases over the horizon.
    pub expected_txn: f64,
    /// Median and 80% interval of the purchase count over the horizon.
    pub txn: PmfSummary,
    pub expected_spend: f64,
    /// True when the spend is the population mean (no repeat purchase to learn from).
    pub spend_backfilled: bool,
    pub clv: f64,
}

/// Largest count kept in a predictive distribution; beyond, the tail is lumped.
pub(crate) fn pmf_cap(mean: f64) -> usize {
    ((mean + 12.0 * (mean + 1.0).sqrt() + 10.0).ceil() as usize).min(20_000)
}

/// The count side of a customer's value: everything but the spend.
#[derive(Debug, Clone, Copy)]
struct CountValue {
    p_alive: f64,
    expected_txn: f64,
    txn: PmfSummary,
    /// Σ_m ΔE[Y]/(1+d)^m: CLV per unit of spend.
    discounted_txn: f64,
}

/// Value every customer. The count side is computed once per distinct
/// (x, t_x, T) and the spend side per (x, m̄): CLV = spend × discounted purchases.
/// `spend`: `None` values each purchase at 1 (counts only).
pub fn value_customers(
    model: &dyn CountModel,
    spend: Option<&GammaGamma>,
    rows: &[(Rfm, f64)],
    p: &ClvParams,
) -> Vec<CustomerValue> {
    let h = p.horizon_units();
    let mut cache: FxHashMap<[u64; 3], CountValue> = FxHashMap::default();
    rows.iter()
        .map(|(c, m)| {
            let key = [c.x.to_bits(), c.t_x.to_bits(), c.t.to_bits()];
            let count = *cache.entry(key).or_insert_with(|| {
                let expected_txn = model.expected_purchases(c, h);
                CountValue {
                    p_alive: model.p_alive(c),
                    expected_txn,
                    txn: summarise_pmf(&model.purchase_pmf(c, h, pmf_cap(expected_txn))),
                    discounted_txn: discounted_clv(model, c, 1.0, p),
                }
            });
            let (expected_spend, spend_backfilled) = match spend {
                Some(g) if c.x > 0.0 && *m > 0.0 => (g.expected_spend(c.x, *m).unwrap_or(0.0), false),
                Some(g) => (g.population_mean().unwrap_or(0.0), true),
                None => (1.0, false),
            };
            CustomerValue {
                p_alive: count.p_alive,
                expected_txn: count.expected_txn,
                txn: count.txn,
                expected_spend,
                spend_backfilled,
                clv: expected_spend * count.discounted_txn,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::BgNbd;

    #[test]
    fn undiscounted_clv_is_spend_times_expected_purchases() {
        let m = BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap();
        let c = Rfm::new(2.0, 30.43, 38.86);
        let p = ClvParams::new(365.0, 0.0, TimeUnit::Week).unwrap();
        assert_eq!(p.months, 12);
        let clv = discounted_clv(&m, &c, 10.0, &p);
        let e = m.expected_purchases(&c, 12.0 * 4.345);
        assert!((clv - 10.0 * e).abs() < 1e-9);
        // discounting lowers it, more for higher rates
        let d10 = discounted_clv(&m, &c, 10.0, &ClvParams::new(365.0, 0.10, TimeUnit::Week).unwrap());
        let d30 = discounted_clv(&m, &c, 10.0, &ClvParams::new(365.0, 0.30, TimeUnit::Week).unwrap());
        assert!(d30 < d10 && d10 < clv);
        assert!(ClvParams::new(0.0, 0.1, TimeUnit::Week).is_err());
        assert!(ClvParams::new(90.0, -1.5, TimeUnit::Week).is_err());
        let monthly = ClvParams::new(90.0, 0.1268250301319698, TimeUnit::Day).unwrap().monthly_discount;
        assert!((monthly - 0.01).abs() < 1e-12);
    }
}
