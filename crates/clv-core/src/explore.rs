//! A fitted count model over the frequency × recency plane for customers of one age T: P(alive)
//! and the expected purchases over a horizon, the two pictures Fader, Hardie & Lee (2005, figures
//! 3 and 4) use to show how the model reads a purchase history — a frequent buyer who has gone
//! quiet (high x, low t_x) is the one at risk.
//!
//! ```
//! use clv_core::explore::frequency_recency;
//! use clv_core::models::BgNbd;
//! // Fader, Hardie & Lee's CDNOW estimates; customers 52 weeks old, next 52 weeks.
//! let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
//! let g = frequency_recency(&m, 52.0, 52.0, 10, 4);
//! assert_eq!((g.frequencies.len(), g.recencies.len()), (11, 5));
//! // Ten repeat purchases, the last a year ago: probably gone; the last one today: surely not.
//! assert!(g.p_alive[10][0] < 0.01 && g.p_alive[10][4] > 0.9);
//! ```

use crate::models::{CountModel, Rfm};
use serde::{Deserialize, Serialize};

/// The model's P(alive) and expected purchases on a grid of (frequency, recency) at one T.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyRecency {
    /// The customers' age (time since first purchase), in the model's unit.
    pub t: f64,
    /// The horizon of `expected`, in the model's unit.
    pub horizon: f64,
    /// Repeat purchases 0 … max.
    pub frequencies: Vec<u32>,
    /// Recency (time of the last repeat purchase) from 0 to T in equal steps.
    pub recencies: Vec<f64>,
    /// `p_alive[x][k]`: P(still a customer) at frequency `frequencies[x]`, recency `recencies[k]`.
    /// A customer with no repeat purchase has recency 0 whatever the column: that row repeats
    /// the value at 0.
    pub p_alive: Vec<Vec<f64>>,
    /// `expected[x][k]`: expected purchases over the horizon, same layout.
    pub expected: Vec<Vec<f64>>,
}

/// The grid for customers of age `t`: frequencies 0 … `max_frequency`, recencies 0, t/steps, … t.
pub fn frequency_recency(
    model: &dyn CountModel,
    t: f64,
    horizon: f64,
    max_frequency: u32,
    steps: usize,
) -> FrequencyRecency {
    let steps = steps.max(1);
    let recencies: Vec<f64> = (0..=steps).map(|k| t * k as f64 / steps as f64).collect();
    let frequencies: Vec<u32> = (0..=max_frequency).collect();
    let cell = |x: u32, r: f64| Rfm { x: f64::from(x), t_x: if x == 0 { 0.0 } else { r }, t };
    let grid = |f: &dyn Fn(&Rfm) -> f64| -> Vec<Vec<f64>> {
        frequencies.iter().map(|&x| recencies.iter().map(|&r| f(&cell(x, r))).collect()).collect()
    };
    FrequencyRecency {
        t,
        horizon,
        p_alive: grid(&|c| model.p_alive(c)),
        expected: grid(&|c| model.expected_purchases(c, horizon)),
        frequencies,
        recencies,
    }
}

/// P(alive) along one customer's history: at each day from their first purchase to `end_day`,
/// the model's P(alive) given only what was known that day (repeat purchases so far, the last
/// one, their age then). It jumps up at each purchase and decays in the silences between —
/// lifetimes' `plot_history_alive`. After the cutoff (to `end_day`) it assumes no purchase: the
/// path the model expects if the customer stays quiet.
///
/// `days`: the customer's purchase days (one per day, ascending) up to the cutoff; `unit_days`:
/// the model's time unit in days. Days sampled: about `max_points` evenly, each purchase day and
/// the day before it, and `cutoff_day`.
pub fn alive_path(
    model: &dyn CountModel,
    days: &[i64],
    cutoff_day: i64,
    end_day: i64,
    unit_days: f64,
    max_points: usize,
) -> Vec<(i64, f64)> {
    let Some(&first) = days.first() else { return Vec::new() };
    let step = ((end_day - first) as f64 / max_points.max(1) as f64).ceil().max(1.0) as i64;
    let mut at: Vec<i64> = (first..=end_day).step_by(step as usize).collect();
    at.extend(days.iter().flat_map(|&d| [d - 1, d]).filter(|&d| d >= first));
    at.extend([cutoff_day, end_day]);
    at.sort_unstable();
    at.dedup();
    at.into_iter()
        .map(|s| {
            let seen = days.partition_point(|&d| d <= s);
            let last = days[seen.max(1) - 1];
            let c = Rfm {
                x: (seen.max(1) - 1) as f64,
                t_x: (last - first) as f64 / unit_days,
                t: (s - first) as f64 / unit_days,
            };
            (s, model.p_alive(&c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{BgNbd, ParetoNbd};

    /// Properties every count model's picture has: P(alive) rises with recency at a fixed
    /// frequency; expected purchases equal the model's own per cell; the no-repeat row is flat.
    /// Hand-computed path of a customer who bought on days 0, 7 and 14 (weeks as the unit): at
    /// the cutoff (day 70) it is the model's P(alive) of (x 2, t_x 2, T 10); it never rises in a
    /// silence and jumps up at a purchase; after the cutoff it keeps falling.
    #[test]
    fn p_alive_along_a_history() {
        let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let path = alive_path(&bg, &[0, 7, 14], 70, 140, 7.0, 50);
        let at = |day: i64| path.iter().find(|p| p.0 == day).unwrap().1;
        assert_eq!(at(70), bg.p_alive(&Rfm { x: 2.0, t_x: 2.0, t: 10.0 }));
        assert_eq!(at(0), 1.0); // no repeat purchase yet: BG/NBD says alive
        assert!(at(14) > at(13), "a purchase lifts it: {} → {}", at(13), at(14));
        let silence: Vec<f64> = path.iter().filter(|p| p.0 >= 14).map(|p| p.1).collect();
        assert!(silence.windows(2).all(|w| w[1] <= w[0]), "{silence:?}");
        assert!(at(140) < at(70));
        assert!(path.windows(2).all(|w| w[0].0 < w[1].0) && path.len() <= 50 + 8);
        assert!(alive_path(&bg, &[], 70, 140, 7.0, 50).is_empty());
    }

    #[test]
    fn the_picture_reads_as_the_model_does() {
        let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let pnbd = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap();
        for m in [&bg as &dyn CountModel, &pnbd] {
            let g = frequency_recency(m, 39.0, 39.0, 12, 13);
            assert_eq!((g.frequencies.len(), g.recencies.len(), g.recencies[13]), (13, 14, 39.0));
            for x in 1..=12 {
                let row = &g.p_alive[x];
                assert!(row.windows(2).all(|w| w[1] >= w[0] - 1e-12), "{} x={x}: {row:?}", m.name());
                let c = Rfm { x: x as f64, t_x: g.recencies[5], t: 39.0 };
                assert!((g.expected[x][5] - m.expected_purchases(&c, 39.0)).abs() < 1e-12);
            }
            assert!(
                g.p_alive[0].iter().all(|&p| p == g.p_alive[0][0])
                    && g.expected[0].iter().all(|&e| e == g.expected[0][0])
            );
            // At recency T (bought today), more purchases mean more expected.
            assert!(g.expected.windows(2).skip(1).all(|w| w[1][13] > w[0][13]), "{}", m.name());
        }
        // BG/NBD drops customers right after a purchase, so one who bought today is alive with
        // 1 / (1 + a / (b + x − 1)) (Fader, Hardie & Lee 2005, eq. 9 at t_x = T): x = 1 → 0.75364.
        let g = frequency_recency(&bg, 39.0, 39.0, 5, 3);
        for x in 1..=5 {
            let hand = 1.0 / (1.0 + 0.793 / (2.426 + x as f64 - 1.0));
            assert!((g.p_alive[x][3] - hand).abs() < 1e-12, "x={x}");
        }
        // Pareto/NBD: one who bought today is alive for sure (dropout is in continuous time).
        let g = frequency_recency(&pnbd, 39.0, 39.0, 5, 3);
        assert!(g.p_alive[1..].iter().all(|row| (row[3] - 1.0).abs() < 1e-9), "{:?}", g.p_alive);
    }
}
