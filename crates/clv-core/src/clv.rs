//! Per-customer lifetime value: a count model (how many purchases) times a
//! spend model (how much each), over the exact horizon the user asked for,
//! discounted period by period — or, as an option, month by month exactly as
//! `lifetimes`' `customer_lifetime_value` does, so numbers can be compared.

use crate::limits::{DISCOUNT_RATE_RANGE, MAX_DISCRETE_HORIZON_PERIODS, MAX_HORIZON_DAYS};
use crate::models::gamma_gamma::GammaGamma;
use crate::models::{summarise_pmf, CountModel, PmfSummary, Rfm};
use crate::time::{PredictionHorizon, TimeUnit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Time units per month in `lifetimes`' CLV loop (`freq` D/W/M: 30, 4.345, 1).
pub fn units_per_month(unit: TimeUnit) -> f64 {
    match unit {
        TimeUnit::Day => 30.0,
        TimeUnit::Week => 4.345,
        TimeUnit::Month => 1.0,
    }
}

/// How future purchases are discounted in CLV. Every other prediction
/// (P(alive), expected purchases, their distribution) uses the exact horizon
/// whichever is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Discounting {
    /// Over the exact horizon, one model period at a time (the last one
    /// partial), at the per-period rate equivalent to the annual one: with
    /// no discount, CLV = spend × expected purchases over the horizon.
    #[default]
    PerPeriod,
    /// `lifetimes`' `customer_lifetime_value`: whole months (the horizon in
    /// days / 30, rounded, at least 1) of `units_per_month` model units
    /// each (30 days, 4.345 weeks), discounted at the monthly rate. Its
    /// horizon is not the exact one: kept to compare with `lifetimes`.
    LifetimesMonthly,
}

impl FromStr for Discounting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "per-period" | "period" => Ok(Discounting::PerPeriod),
            "lifetimes" | "lifetimes-monthly" | "monthly" => Ok(Discounting::LifetimesMonthly),
            other => Err(format!("unknown discounting {other:?}: expected per-period or lifetimes")),
        }
    }
}

/// At most this many discounting steps: a ten-year horizon in days is
/// discounted in steps of 3.65 days, not 3,650 evaluations per customer.
const MAX_STEPS: f64 = 1_000.0;

/// CLV settings, valid by construction ([`ClvParams::new`] checks the
/// discount rate and the horizon's length once the model's unit is known).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClvParams {
    /// The horizon in model units, exactly as asked.
    horizon: f64,
    unit: TimeUnit,
    annual_discount_rate: f64,
    discounting: Discounting,
    /// `lifetimes`' whole months (for [`Discounting::LifetimesMonthly`]).
    months: u32,
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
    /// The horizon is longer than ten years once its periods are known.
    #[error(
        "horizon must be at most {MAX_HORIZON_DAYS} days (ten years): {horizon} of a {unit} model is {days:.0} days"
    )]
    TooLong {
        /// The horizon as given.
        horizon: PredictionHorizon,
        /// The model's unit.
        unit: TimeUnit,
        /// Its length in days.
        days: f64,
    },
    /// A discrete-time model would step through more periods than allowed.
    #[error("BG/BB predicts period by period: a horizon of {periods:.0} periods of a {unit} is more than the {MAX_DISCRETE_HORIZON_PERIODS} allowed; use a shorter horizon or a coarser unit")]
    TooManyPeriods {
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
    /// CLV over `horizon` for a model fitted in `unit`s, discounted at the
    /// equivalent of `annual_discount_rate` (0.10 = 10% a year) as `discounting` says.
    pub fn new(
        horizon: PredictionHorizon,
        annual_discount_rate: f64,
        unit: TimeUnit,
        discounting: Discounting,
    ) -> Result<ClvParams, ClvError> {
        let (low, high) = DISCOUNT_RATE_RANGE;
        if !(annual_discount_rate.is_finite() && (low..=high).contains(&annual_discount_rate)) {
            return Err(ClvError::DiscountRate { rate: annual_discount_rate });
        }
        let days = horizon.in_days(unit);
        if days > MAX_HORIZON_DAYS as f64 {
            return Err(ClvError::TooLong { horizon, unit, days });
        }
        Ok(ClvParams {
            horizon: horizon.in_units(unit),
            unit,
            annual_discount_rate,
            discounting,
            months: ((days / 30.0).round() as u32).max(1),
        })
    }

    /// The horizon in model time units: every prediction but a
    /// [`Discounting::LifetimesMonthly`] CLV is at exactly this time.
    pub fn horizon_units(&self) -> f64 {
        self.horizon
    }

    /// The time unit of the models valued.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// The annual discount rate given.
    pub fn annual_discount_rate(&self) -> f64 {
        self.annual_discount_rate
    }

    /// How CLV discounts.
    pub fn discounting(&self) -> Discounting {
        self.discounting
    }

    /// The monthly discount rate equivalent to the annual one.
    pub fn monthly_discount(&self) -> f64 {
        (1.0 + self.annual_discount_rate).powf(1.0 / 12.0) - 1.0
    }

    /// The discount rate per model time unit equivalent to the annual one.
    pub fn period_discount(&self) -> f64 {
        (1.0 + self.annual_discount_rate).powf(1.0 / units_per_year(self.unit)) - 1.0
    }

    /// `lifetimes`' whole months, used by [`Discounting::LifetimesMonthly`].
    pub fn months(&self) -> u32 {
        self.months
    }

    /// Discrete-time models predict period by period: the horizon in
    /// periods is bounded by [`MAX_DISCRETE_HORIZON_PERIODS`].
    pub fn check_discrete(&self) -> Result<(), ClvError> {
        let lifetimes_end = f64::from(self.months) * units_per_month(self.unit);
        let periods = match self.discounting {
            Discounting::PerPeriod => self.horizon,
            Discounting::LifetimesMonthly => self.horizon.max(lifetimes_end),
        };
        if periods > MAX_DISCRETE_HORIZON_PERIODS {
            return Err(ClvError::TooManyPeriods { periods, unit: self.unit });
        }
        Ok(())
    }

    /// The same rate as a continuous rate per time unit (for DERT); `None`
    /// without discounting, where DERT is infinite.
    pub fn continuous_rate(&self) -> Option<f64> {
        let annual = 1.0 + self.annual_discount_rate;
        (annual > 1.0).then(|| annual.ln() / units_per_year(self.unit))
    }

    /// The times (model units) at which the cumulative expectation is read,
    /// each with the discount factor of the purchases up to it.
    fn cumulative_steps(&self) -> Vec<(f64, f64)> {
        match self.discounting {
            Discounting::LifetimesMonthly => {
                let (k, d) = (units_per_month(self.unit), self.monthly_discount());
                (1..=self.months).map(|m| (f64::from(m) * k, (1.0 + d).powi(-(m as i32)))).collect()
            }
            Discounting::PerPeriod => {
                let step = (self.horizon / MAX_STEPS).max(1.0);
                let n = (self.horizon / step).ceil().max(1.0) as usize;
                let d = self.period_discount();
                (1..=n).map(|i| (i as f64 * step).min(self.horizon)).map(|t| (t, (1.0 + d).powf(-t))).collect()
            }
        }
    }
}

/// spend · Σ_k (E[Y(t_k)] − E[Y(t_{k−1})]) · discount(t_k): with
/// [`Discounting::LifetimesMonthly`], t_m = m·k for k units per month and
/// discount (1 + d)^−m — `lifetimes`' `customer_lifetime_value`.
pub fn discounted_clv(model: &dyn CountModel, c: &Rfm, spend: f64, p: &ClvParams) -> f64 {
    spend * discounted_purchases(p, |t| model.expected_purchases(c, t))
}

/// Σ_k (E(t_k) − E(t_{k−1})) · discount(t_k) for a cumulative expectation E
/// over the steps of [`ClvParams`]'s discounting.
fn discounted_purchases(p: &ClvParams, expected: impl Fn(f64) -> f64) -> f64 {
    let (mut prev, mut sum) = (0.0, 0.0);
    for (t, factor) in p.cumulative_steps() {
        let e = expected(t);
        sum += (e - prev) * factor;
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

/// Σ_k ΔE[Y(t_k) | alive]·discount(t_k): discounted purchases per unit of spend of a customer
/// alive at T (a function of (x, T) only).
pub(crate) fn discounted_if_alive(model: &dyn CountModel, c: &Rfm, p: &ClvParams) -> f64 {
    discounted_purchases(p, |t| model.expected_if_alive(c, t))
}

fn if_alive(model: &dyn CountModel, c: &Rfm, p: &ClvParams) -> IfAlive {
    let expected = model.expected_if_alive(c, p.horizon_units());
    let discounted = discounted_if_alive(model, c, p);
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
/// once per distinct (x, t_x, T), both in parallel natively. CLV = spend × P(alive) × discounted
/// purchases if alive. `spend`: `None` values each purchase at 1 (counts only).
pub fn value_customers(
    model: &dyn CountModel,
    spend: Option<&GammaGamma>,
    rows: &[(Rfm, f64)],
    p: &ClvParams,
) -> Vec<CustomerValue> {
    // The "if alive" part depends on (x, T) only, P(alive) on (x, t_x, T): each is computed once per
    // distinct key (P(alive) is Pareto/NBD's costliest number per customer: two ₂F₁).
    let (keys, slot) = crate::distinct(rows, |(c, _)| [c.x.to_bits(), c.t.to_bits()]);
    let alive: Vec<IfAlive> = keys.par_iter().map(|(c, _)| if_alive(model, c, p)).collect();
    let (rfm_keys, rfm_slot) = crate::distinct(rows, |(c, _)| [c.x.to_bits(), c.t_x.to_bits(), c.t.to_bits()]);
    let p_alive: Vec<f64> = rfm_keys.par_iter().map(|(c, _)| model.p_alive(c)).collect();
    rows.par_iter()
        .zip(slot.par_iter().zip(&rfm_slot))
        .map(|((c, m), (&k, &j))| {
            let a = &alive[k as usize];
            let p_alive = p_alive[j as usize];
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
    use crate::time::HorizonUnit;

    fn days(n: f64) -> PredictionHorizon {
        PredictionHorizon::new(n, HorizonUnit::Day).unwrap()
    }

    fn params(h: PredictionHorizon, rate: f64, unit: TimeUnit, d: Discounting) -> ClvParams {
        ClvParams::new(h, rate, unit, d).unwrap()
    }

    fn paper() -> (BgNbd, Rfm) {
        (BgNbd::new(0.242593, 4.413532, 0.792886, 2.425754).unwrap(), Rfm::new(2.0, 30.43, 38.86))
    }

    #[test]
    fn the_horizon_is_exact_and_undiscounted_clv_is_spend_times_expected_purchases() {
        let (m, c) = paper();
        // 273 days in weeks is 39 weeks, not 9 months × 4.345 (39.105).
        let p = params(days(273.0), 0.0, TimeUnit::Week, Discounting::PerPeriod);
        assert_eq!(p.horizon_units(), 39.0);
        let e39 = m.expected_purchases(&c, 39.0);
        assert!((discounted_clv(&m, &c, 10.0, &p) - 10.0 * e39).abs() < 1e-12 * e39);
        // The same horizon given in weeks or as periods of a weekly model.
        for h in [PredictionHorizon::new(39.0, HorizonUnit::Week), PredictionHorizon::new(39.0, HorizonUnit::Period)] {
            assert_eq!(params(h.unwrap(), 0.0, TimeUnit::Week, Discounting::PerPeriod).horizon_units(), 39.0);
        }
        // A partial last period: 90 days = 12 6/7 weeks, read at exactly that time.
        let p = params(days(90.0), 0.0, TimeUnit::Week, Discounting::PerPeriod);
        let e = m.expected_purchases(&c, 90.0 / 7.0);
        assert!((discounted_clv(&m, &c, 1.0, &p) - e).abs() < 1e-12);
    }

    #[test]
    fn discounting_lowers_clv_more_for_higher_rates_and_per_period_steps_are_the_rate() {
        let (m, c) = paper();
        let at =
            |rate| discounted_clv(&m, &c, 10.0, &params(days(365.0), rate, TimeUnit::Week, Discounting::PerPeriod));
        let (d0, d10, d30) = (at(0.0), at(0.10), at(0.30));
        assert!(d30 < d10 && d10 < d0, "{d30} {d10} {d0}");
        // By hand: Σ_k ΔE(k) / 1.1^(k/52.18) over 52 whole weeks and a last 1/7 week.
        let p = params(days(365.0), 0.10, TimeUnit::Week, Discounting::PerPeriod);
        let per_week = 1.1f64.powf(7.0 / 365.25);
        let mut ts: Vec<f64> = (1..=52).map(f64::from).collect();
        ts.push(365.0 / 7.0);
        let (mut prev, mut sum) = (0.0, 0.0);
        for t in ts {
            let e = m.expected_purchases(&c, t);
            sum += (e - prev) / per_week.powf(t);
            prev = e;
        }
        assert!((d10 - 10.0 * sum).abs() < 1e-10, "{d10} vs {}", 10.0 * sum);
        assert!((p.period_discount() - (per_week - 1.0)).abs() < 1e-15);
        // Ten years in days is discounted in 1,000 steps, and still telescopes without a discount.
        let long = params(days(3650.0), 0.0, TimeUnit::Day, Discounting::PerPeriod);
        assert_eq!(long.cumulative_steps().len(), 1000);
        assert!((discounted_clv(&m, &c, 1.0, &long) - m.expected_purchases(&c, 3650.0)).abs() < 1e-9);
    }

    #[test]
    fn lifetimes_monthly_discounting_is_kept_as_an_option() {
        let (m, c) = paper();
        let p = params(days(365.0), 0.0, TimeUnit::Week, Discounting::LifetimesMonthly);
        assert_eq!(p.months(), 12);
        // lifetimes sums 12 months of 4.345 weeks: its CLV is at 52.14 weeks, not 52.14…3.
        let clv = discounted_clv(&m, &c, 10.0, &p);
        assert!((clv - 10.0 * m.expected_purchases(&c, 12.0 * 4.345)).abs() < 1e-9);
        assert_eq!(p.horizon_units(), 365.0 / 7.0, "the other predictions stay exact");
        let monthly = params(days(90.0), 0.1268250301319698, TimeUnit::Day, Discounting::LifetimesMonthly);
        assert!((monthly.monthly_discount() - 0.01).abs() < 1e-12);
        assert_eq!("lifetimes".parse(), Ok(Discounting::LifetimesMonthly));
        assert_eq!("per-period".parse(), Ok(Discounting::PerPeriod));
    }

    #[test]
    fn horizon_and_rate_are_bounded() {
        let ten_years = ClvParams::new(days(3650.0), 0.1, TimeUnit::Week, Discounting::PerPeriod);
        assert!(ten_years.is_ok());
        // 600 periods of a weekly model is 4,200 days: refused once the period is known.
        let periods = PredictionHorizon::new(600.0, HorizonUnit::Period).unwrap();
        let e = ClvParams::new(periods, 0.1, TimeUnit::Week, Discounting::PerPeriod).unwrap_err().to_string();
        assert!(e.contains("at most 3650 days") && e.contains("600 periods of a week model is 4200 days"), "{e}");
        for rate in [1e300, -0.999999, 10.5, f64::NAN] {
            let e = ClvParams::new(days(365.0), rate, TimeUnit::Week, Discounting::PerPeriod).unwrap_err().to_string();
            assert!(e.contains("from -0.5 to 10"), "{rate}: {e}");
        }
        // BG/BB: a year in months is 12.0 periods, in days 365.
        let year = |unit| params(days(365.0), 0.0, unit, Discounting::PerPeriod);
        assert!(year(TimeUnit::Month).check_discrete().is_ok());
        let e = year(TimeUnit::Day).check_discrete().unwrap_err().to_string();
        assert!(e.contains("365 periods of a day") && e.contains("120"), "{e}");
    }
}
