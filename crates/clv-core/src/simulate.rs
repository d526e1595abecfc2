//! Synthetic transactions from known BG/NBD (+ Gamma–Gamma) parameters.
//!
//! The generative story of Fader, Hardie & Lee (2005), "Counting your
//! customers the easy way", §3: while alive a customer buys as a Poisson
//! process with rate λ ~ Gamma(r, α); after each repeat purchase they drop
//! out with probability p ~ Beta(a, b). Spend per transaction follows
//! Gamma–Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Hardie note 025):
//! z ~ Gamma(p, ν), ν ~ Gamma(q, γ). Rates are per [`TimeUnit`].

use crate::time::{format_day, TimeUnit, SECONDS_PER_DAY};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Exp, Gamma};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// Why simulation settings were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationError {
    /// A model parameter that must be a positive number is not.
    #[error("parameter {name} must be a positive number, got {value}")]
    NotPositive {
        /// The parameter's name (r, alpha, a, b, p, q, gamma).
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// The acquisition window is empty or longer than the observation window.
    #[error("need 1 ≤ acquisition days ≤ observation days, got {acquisition} and {observation}")]
    Windows {
        /// Days over which first purchases are spread.
        acquisition: i64,
        /// Days observed from the start.
        observation: i64,
    },
    /// A rate the sampler could not use (an exponential waiting time whose
    /// rate underflowed, …): the parameters are too extreme to simulate.
    #[error("cannot simulate with these parameters: {0}")]
    Sampler(String),
}

/// Everything a simulation needs: the BG/NBD population (r, α, a, b), the
/// optional Gamma–Gamma spend, the time unit the rates are in, how many
/// customers, when they arrive and for how long they are watched, and the seed.
/// [`simulate`] checks them with [`SimulationParams::validate`] first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimulationParams {
    /// Shape r of the Gamma distribution of purchase rates λ across customers (> 0).
    pub r: f64,
    /// Rate α of that Gamma, in [`unit`](Self::unit)s of time (> 0): λ ~ Gamma(r, α)
    /// has mean r/α purchases per unit.
    pub alpha: f64,
    /// First shape a of the Beta distribution of the dropout probability p (> 0);
    /// p has mean a / (a + b).
    pub a: f64,
    /// Second shape b of the dropout Beta (> 0).
    pub b: f64,
    /// Gamma–Gamma `(p, q, γ)`; a constant spend of 1 when `None`.
    pub spend: Option<(f64, f64, f64)>,
    /// The time unit λ and α refer to, and in which [`simulate_summary`] gives
    /// recency and `T`.
    pub unit: TimeUnit,
    /// Number of customers to draw; they are numbered `0..customers`.
    pub customers: u64,
    /// Day number of the first possible acquisition.
    pub start_day: i64,
    /// Customers are acquired uniformly over this many days.
    pub acquisition_days: i64,
    /// Purchases are observed up to this many days after `start_day`.
    pub observation_days: i64,
    /// Seed of the random generator (`StdRng`): the same parameters and seed give
    /// the same transactions (for a given version of the `rand` crate).
    pub seed: u64,
}

impl SimulationParams {
    /// Check that r, α, a, b (and p, q, γ when given) are finite and positive and
    /// that 1 ≤ `acquisition_days` ≤ `observation_days`; the error names the
    /// offending parameter.
    pub fn validate(&self) -> Result<(), SimulationError> {
        let positive = [("r", self.r), ("alpha", self.alpha), ("a", self.a), ("b", self.b)];
        // Without a spend model there is nothing more to check (an empty list, not three zeros).
        let spend = self.spend.map(|(p, q, g)| vec![("p", p), ("q", q), ("gamma", g)]).unwrap_or_default();
        for &(name, value) in positive.iter().chain(spend.iter()) {
            if !(value.is_finite() && value > 0.0) {
                return Err(SimulationError::NotPositive { name, value });
            }
        }
        if self.acquisition_days < 1 || self.observation_days < self.acquisition_days {
            return Err(SimulationError::Windows {
                acquisition: self.acquisition_days,
                observation: self.observation_days,
            });
        }
        Ok(())
    }
}

/// One simulated purchase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimTxn {
    /// The customer's number, `0..customers` in the order they were drawn
    /// ([`write_csv`] writes it as `c{customer}`).
    pub customer: u64,
    /// Time of the purchase in seconds since the Unix epoch (UTC); always before the
    /// end of the observation window. The first purchase is at a uniformly random
    /// second of the customer's acquisition day.
    pub ts: i64,
    /// Spend of this purchase: a Gamma–Gamma draw for the customer, or exactly 1
    /// when `spend` is `None`.
    pub amount: f64,
}

fn sampler(e: impl std::fmt::Display) -> SimulationError {
    SimulationError::Sampler(e.to_string())
}

/// Draw transactions customer by customer, calling `emit` for each, in time
/// order within a customer. Deterministic for a given seed.
pub fn simulate(p: &SimulationParams, mut emit: impl FnMut(SimTxn)) -> Result<(), SimulationError> {
    p.validate()?;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let lambda = Gamma::new(p.r, 1.0 / p.alpha).map_err(sampler)?;
    let drop = Beta::new(p.a, p.b).map_err(sampler)?;
    let nu = match p.spend {
        Some((_, q, g)) => Some(Gamma::new(q, 1.0 / g).map_err(sampler)?),
        None => None,
    };
    let unit_secs = p.unit.days() * SECONDS_PER_DAY as f64;
    let end = (p.start_day + p.observation_days) * SECONDS_PER_DAY;
    for customer in 0..p.customers {
        let first = (p.start_day + rng.random_range(0..p.acquisition_days)) * SECONDS_PER_DAY
            + rng.random_range(0..SECONDS_PER_DAY);
        let l = lambda.sample(&mut rng).max(1e-300);
        let dropout = drop.sample(&mut rng);
        let spend = match (p.spend, nu) {
            (Some((shape, _, _)), Some(nu)) => {
                Some(Gamma::new(shape, 1.0 / nu.sample(&mut rng).max(1e-300)).map_err(sampler)?)
            }
            _ => None,
        };
        let amount = |rng: &mut StdRng| spend.map_or(1.0, |g| g.sample(rng));
        let a0 = amount(&mut rng);
        emit(SimTxn { customer, ts: first, amount: a0 });
        let wait = Exp::new(l).map_err(sampler)?;
        let mut t = first as f64;
        loop {
            t += wait.sample(&mut rng) * unit_secs;
            if t >= end as f64 {
                break;
            }
            let a = amount(&mut rng);
            emit(SimTxn { customer, ts: t as i64, amount: a });
            if rng.random::<f64>() < dropout {
                break;
            }
        }
    }
    Ok(())
}

/// Simulate straight to the calibration summary at the end of the
/// observation window, with times measured in whole days (as real data
/// is): `(x, t_x, T)` in the model's unit and the mean repeat spend.
pub fn simulate_summary(p: &SimulationParams) -> Result<Vec<(crate::models::Rfm, f64)>, SimulationError> {
    let day = |ts: i64| ts.div_euclid(SECONDS_PER_DAY);
    let end = p.start_day + p.observation_days;
    // per customer: first day, last day, repeat count, repeat spend
    let mut acc: Vec<(i64, i64, f64, f64)> = Vec::with_capacity(p.customers as usize);
    simulate(p, |t| {
        if acc.len() as u64 <= t.customer {
            acc.push((day(t.ts), day(t.ts), 0.0, 0.0));
        } else if let Some(a) = acc.last_mut() {
            // same-day purchases merge into one, as the summary builder does
            if day(t.ts) > a.1 {
                a.1 = day(t.ts);
                a.2 += 1.0;
            }
            a.3 += t.amount;
        }
    })?;
    let per = p.unit.days();
    Ok(acc
        .into_iter()
        .map(|(first, last, x, spend)| {
            let rfm = crate::models::Rfm::new(x, (last - first) as f64 / per, (end - first) as f64 / per);
            (rfm, if x > 0.0 { spend / x } else { 0.0 })
        })
        .collect())
}

/// Write simulated transactions as `user_id,ts,amount` CSV (dates as
/// `YYYY-MM-DD`, amounts in cents precision).
pub fn write_csv(p: &SimulationParams, out: &mut impl Write) -> io::Result<u64> {
    writeln!(out, "user_id,ts,amount")?;
    let mut n = 0u64;
    let mut result = Ok(());
    let mut day_cache = (i64::MIN, String::new());
    simulate(p, |t| {
        if result.is_err() {
            return;
        }
        let day = t.ts.div_euclid(SECONDS_PER_DAY);
        if day != day_cache.0 {
            day_cache = (day, format_day(day));
        }
        n += 1;
        result = writeln!(out, "c{},{},{:.2}", t.customer, day_cache.1, t.amount);
    })
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    result.map(|_| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(seed: u64) -> SimulationParams {
        SimulationParams {
            r: 0.25,
            alpha: 4.0,
            a: 0.8,
            b: 2.5,
            spend: Some((6.0, 4.0, 15.0)),
            unit: TimeUnit::Week,
            customers: 20_000,
            start_day: 0,
            acquisition_days: 1,
            observation_days: 7 * 52,
            seed,
        }
    }

    #[test]
    fn deterministic_per_seed() {
        let collect = |s| {
            let mut v = Vec::new();
            simulate(&params(s), |t| v.push(t)).unwrap();
            v
        };
        assert_eq!(collect(1), collect(1));
        assert_ne!(collect(1), collect(2));
    }

    #[test]
    fn first_purchases_and_spend_match_the_model() {
        let p = params(7);
        let (mut n, mut total) = (0u64, 0.0);
        simulate(&p, |t| {
            n += 1;
            total += t.amount;
        })
        .unwrap();
        // E[z] = p·γ/(q−1) = 6·15/3 = 30 per transaction.
        let mean = total / n as f64;
        assert!((mean - 30.0).abs() < 1.5, "mean spend {mean}");
        // BG/NBD E[X(t)] for t = 52 weeks at these parameters is ≈ 1.9
        // repeat purchases (formula: FHL 2005 eq. 7); a loose check here, the
        // exact one lives with the model.
        let repeats = (n - p.customers) as f64 / p.customers as f64;
        assert!(repeats > 1.0 && repeats < 3.0, "repeats per customer {repeats}");
    }

    /// Without a spend model every purchase is worth exactly 1 (this once failed validation: the
    /// missing p, q, γ were checked as three zeros).
    #[test]
    fn without_a_spend_model_each_purchase_is_one() {
        let mut p = params(2);
        (p.spend, p.customers) = (None, 200);
        let mut amounts = Vec::new();
        simulate(&p, |t| amounts.push(t.amount)).unwrap();
        assert!(amounts.len() > 200 && amounts.iter().all(|&a| a == 1.0));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let mut p = params(1);
        p.alpha = -1.0;
        assert!(simulate(&p, |_| {}).unwrap_err().to_string().contains("alpha"));
    }

    #[test]
    fn csv_output() {
        let mut p = params(3);
        p.customers = 3;
        let mut buf = Vec::new();
        let n = write_csv(&p, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count() as u64, n + 1);
        assert!(text.starts_with("user_id,ts,amount\nc0,1970-01-01,"));
    }
}
