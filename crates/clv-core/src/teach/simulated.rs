//! The lesson's third step: draw a customer base from BG/NBD parameters a teacher chose, watch it,
//! fit BG/NBD to what was watched, and see the parameters come back.
//!
//! The draw is [`crate::simulate`]'s (Fader, Hardie & Lee 2005, §3); the watched purchases become
//! [`Transactions`] and go through the same summary, fit and tracking code as a user's file, so
//! what the lesson shows is what the tool does with data.
//!
//! ```
//! use clv_core::teach::simulated::{simulate_base, Classroom};
//! let base = simulate_base(&Classroom::new([0.24, 4.4, 0.79, 2.4], 1000, 52, 1).unwrap()).unwrap();
//! assert_eq!(base.customers, 1000);
//! // The model fitted to the simulation expects about as many repeat purchases as were made.
//! let last = base.tracking.last().unwrap();
//! assert!((last.refit / last.actual - 1.0).abs() < 0.1);
//! ```

use serde::{Deserialize, Serialize};

use super::TeachError;
use crate::features::{Cutoff, RfmSummary};
use crate::ingest::{Transactions, Txn};
use crate::models::{BgNbd, FitReport};
use crate::pipeline::Customers;
use crate::simulate::{simulate, SimulationParams};
use crate::time::{day_of, TimeUnit};
use crate::tracking::TrackingFrame;

/// Most customers a lesson draws: enough for the parameters to come back, few enough to refit
/// while a slider moves.
pub const MAX_CUSTOMERS: u64 = 5_000;
/// Longest watch, in weeks (three years).
pub const MAX_WEEKS: u32 = 156;
/// Customers whose purchases are drawn one by one as dots.
pub const TIMELINES: usize = 24;
/// Customers join during the first twelve weeks (CDNOW's first quarter), or the whole watch if shorter.
pub const ACQUISITION_WEEKS: u32 = 12;
/// Day number of the lesson's first day: Monday 2024-01-01, so weeks are calendar weeks.
const START_DAY: i64 = 19_723;

/// What the lesson simulates: BG/NBD's `[r, α, a, b]` (rates per week), how many customers,
/// how many weeks they are watched, and the seed. Checked once, here (so it is not `Deserialize`:
/// a request carries the raw numbers and goes through [`Classroom::new`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Classroom {
    params: [f64; 4],
    customers: u64,
    weeks: u32,
    seed: u64,
}

impl Classroom {
    /// Parameters positive and finite, 20 to [`MAX_CUSTOMERS`] customers, 4 to [`MAX_WEEKS`] weeks.
    pub fn new(params: [f64; 4], customers: u64, weeks: u32, seed: u64) -> Result<Classroom, TeachError> {
        for (name, value) in ["r", "alpha", "a", "b"].into_iter().zip(params) {
            super::checked(name, value, true)?;
        }
        if !(20..=MAX_CUSTOMERS).contains(&customers) {
            return Err(TeachError::Count { name: "customers", min: 20, max: MAX_CUSTOMERS, value: customers });
        }
        if !(4..=u64::from(MAX_WEEKS)).contains(&u64::from(weeks)) {
            let (max, value) = (u64::from(MAX_WEEKS), u64::from(weeks));
            return Err(TeachError::Count { name: "weeks", min: 4, max, value });
        }
        Ok(Classroom { params, customers, weeks, seed })
    }

    fn simulation(&self) -> SimulationParams {
        let [r, alpha, a, b] = self.params;
        SimulationParams {
            r,
            alpha,
            a,
            b,
            spend: None,
            unit: TimeUnit::Week,
            customers: self.customers,
            start_day: START_DAY,
            acquisition_days: i64::from(ACQUISITION_WEEKS.min(self.weeks)) * 7,
            observation_days: i64::from(self.weeks) * 7,
            seed: self.seed,
        }
    }
}

/// One week of the tracking curve: repeat purchases made so far, and what BG/NBD expects of the
/// same customers at the true parameters and at the refitted ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackingWeek {
    /// 1-based week since the first customer joined.
    pub week: usize,
    /// Repeat purchase days made by the end of the week.
    pub actual: f64,
    /// E[repeat purchases] at the parameters the customers were drawn from.
    pub truth: f64,
    /// The same at the parameters fitted to the simulation (0 when the fit failed).
    pub refit: f64,
}

/// A simulated customer base, watched and refitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedBase {
    /// The BG/NBD parameters `[r, α, a, b]` the customers were drawn from.
    pub truth: [f64; 4],
    /// Customers drawn.
    pub customers: usize,
    /// Weeks watched.
    pub weeks: u32,
    /// Of them, customers who bought again at least once.
    pub repeat_buyers: usize,
    /// Repeat purchase days in all.
    pub repeat_purchases: f64,
    /// The first [`TIMELINES`] customers' purchase days, in weeks since the start (the first is
    /// when they joined).
    pub timelines: Vec<Vec<f64>>,
    /// Week by week, cumulative.
    pub tracking: Vec<TrackingWeek>,
    /// BG/NBD fitted to the simulation: estimates with 95% intervals and whether it converged.
    pub fit: Option<FitReport>,
    /// Why there is no usable refit, said plainly.
    pub fit_problem: Option<String>,
}

/// Draw, watch, refit (see the module documentation). Deterministic for a classroom's seed.
pub fn simulate_base(c: &Classroom) -> Result<SimulatedBase, TeachError> {
    let sim = c.simulation();
    let mut pairs = Vec::new();
    simulate(&sim, |t| pairs.push((t.customer, Txn { ts: t.ts, amount: t.amount })))
        .map_err(|e| TeachError::Simulation(e.to_string()))?;
    let timelines = timelines(&pairs, sim.start_day);
    let tx = Transactions::from_pairs(pairs.into_iter().map(|(id, t)| (id.to_string(), t)));
    let cutoff = Cutoff::day(sim.start_day + sim.observation_days - 1);
    let customers = Customers::from_summary(&RfmSummary::build(&tx, cutoff, TimeUnit::Week), &tx);
    let (fit, model) = super::fit_alone::<BgNbd>(&customers);
    let frame = TrackingFrame::build(&tx, cutoff, cutoff.day, TimeUnit::Week);
    let [r, alpha, a, b] = c.params;
    let truth = frame.expected_cumulative(&BgNbd::new(r, alpha, a, b).expect("checked by Classroom::new"));
    let refit = model.as_ref().ok().map(|m| frame.expected_cumulative(m));
    let tracking = frame
        .periods
        .iter()
        .enumerate()
        .map(|(k, p)| TrackingWeek {
            week: p.period,
            actual: p.cumulative_actual,
            truth: truth[k],
            refit: refit.as_ref().map_or(0.0, |v| v[k]),
        })
        .collect();
    Ok(SimulatedBase {
        truth: c.params,
        customers: customers.rfm.len(),
        weeks: c.weeks,
        repeat_buyers: customers.rfm.iter().filter(|r| r.x > 0.0).count(),
        repeat_purchases: customers.rfm.iter().map(|r| r.x).sum(),
        timelines,
        tracking,
        fit,
        fit_problem: model.err(),
    })
}

/// The first [`TIMELINES`] customers' purchase days in weeks since `start_day` (customers are drawn
/// in order, each one's purchases in time order; same-day purchases are one dot).
fn timelines(pairs: &[(u64, Txn)], start_day: i64) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = vec![Vec::new(); TIMELINES];
    for (customer, t) in pairs.iter().take_while(|(c, _)| (*c as usize) < TIMELINES) {
        let week = (day_of(t.ts) - start_day) as f64 / 7.0;
        let days = &mut out[*customer as usize];
        if days.last() != Some(&week) {
            days.push(week);
        }
    }
    out.truncate(pairs.last().map_or(0, |(c, _)| (*c as usize + 1).min(TIMELINES)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDNOW: [f64; 4] = [0.242593, 4.413532, 0.792886, 2.425754];

    #[test]
    fn the_drawn_parameters_come_back_inside_their_intervals() {
        let base = simulate_base(&Classroom::new(CDNOW, MAX_CUSTOMERS, 78, 7).unwrap()).unwrap();
        let fit = base.fit.as_ref().expect("a fit");
        assert!(fit.convergence.converged, "{:?}", fit.convergence);
        for (p, truth) in fit.params.iter().zip(CDNOW) {
            let (low, high) = (p.ci_low.unwrap(), p.ci_high.unwrap());
            assert!(low < truth && truth < high, "{} = {truth} outside [{low}, {high}]", p.name);
        }
        // Repeat purchases made equal the summary's, and the tracking curve ends at them.
        assert_eq!(base.tracking.last().unwrap().actual, base.repeat_purchases);
        assert_eq!(base.customers, MAX_CUSTOMERS as usize);
    }

    #[test]
    fn the_tracking_curve_rises_and_both_models_follow_it() {
        let base = simulate_base(&Classroom::new(CDNOW, 2000, 52, 3).unwrap()).unwrap();
        assert_eq!(base.tracking.len(), 52);
        for w in base.tracking.windows(2) {
            assert!(w[1].actual >= w[0].actual && w[1].truth >= w[0].truth && w[1].refit >= w[0].refit);
        }
        let last = base.tracking.last().unwrap();
        assert!((last.truth / last.actual - 1.0).abs() < 0.1, "{last:?}");
        // The refit describes the data it was fitted on at least about as well as the truth.
        assert!((last.refit / last.actual - 1.0).abs() < 0.05, "{last:?}");
    }

    #[test]
    fn timelines_start_when_each_customer_joined_and_stay_in_the_window() {
        let base = simulate_base(&Classroom::new(CDNOW, 100, 26, 11).unwrap()).unwrap();
        assert_eq!(base.timelines.len(), TIMELINES);
        for t in &base.timelines {
            assert!(t[0] < f64::from(ACQUISITION_WEEKS), "{t:?}");
            assert!(t.windows(2).all(|w| w[0] < w[1]) && *t.last().unwrap() < 26.0, "{t:?}");
        }
        let dots: usize = base.timelines.iter().map(Vec::len).sum();
        assert!(dots > TIMELINES, "someone bought again");
    }

    #[test]
    fn the_same_seed_draws_the_same_base_and_another_seed_another() {
        let c = Classroom::new(CDNOW, 300, 20, 5).unwrap();
        assert_eq!(simulate_base(&c).unwrap(), simulate_base(&c).unwrap());
        let other = simulate_base(&Classroom::new(CDNOW, 300, 20, 6).unwrap()).unwrap();
        assert_ne!(simulate_base(&c).unwrap().timelines, other.timelines);
    }

    #[test]
    fn a_classroom_out_of_range_is_refused_by_name() {
        assert!(Classroom::new([0.0, 4.4, 0.79, 2.4], 1000, 52, 1).is_err());
        let e = Classroom::new(CDNOW, 10, 52, 1).unwrap_err().to_string();
        assert_eq!(e, "customers must be from 20 to 5000, got 10");
        assert!(Classroom::new(CDNOW, 1000, 200, 1).is_err());
    }

    /// Nobody leaves (b huge: dropout ≈ 0) and everyone buys at the same rate (r, α huge): the fit
    /// lies on a boundary — it says so rather than reporting intervals it does not have.
    #[test]
    fn a_population_at_the_boundary_is_reported_honestly() {
        let base = simulate_base(&Classroom::new([1e4, 1e5, 0.01, 1e4], 500, 52, 2).unwrap()).unwrap();
        let fit = base.fit.as_ref().expect("a fit report");
        assert!(!fit.convergence.converged);
        let boundary = fit.convergence.boundary.as_deref().unwrap();
        assert!(
            boundary.contains("one purchase rate for everyone") && boundary.contains("no-dropout limit"),
            "{boundary}"
        );
        assert!(fit.params.iter().all(|p| p.ci_low.is_none()), "no intervals for a point on the way to a limit");
        assert!(base.fit_problem.as_deref().is_some_and(|p| p.starts_with("at a boundary")));
        // Without a usable refit there is no refit curve; the truth's still follows the data.
        let last = base.tracking.last().unwrap();
        assert_eq!(last.refit, 0.0);
        assert!((last.truth / last.actual - 1.0).abs() < 0.05, "{last:?}");
    }
}
