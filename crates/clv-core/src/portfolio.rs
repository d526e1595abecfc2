//! The customer base as a whole, from per-customer predictions: how much
//! value there is, how concentrated it is (top-decile share, Lorenz curve,
//! Gini), how it is distributed, and the classic P(alive) × value quadrants
//! that say whom to keep, win back, grow or let go.
//!
//! ```
//! use clv_core::portfolio::Portfolio;
//! let p = Portfolio::build(&[(0.9, 100.0), (0.2, 0.0), (0.8, 0.0), (0.1, 0.0)]);
//! assert_eq!(p.total_clv, 100.0);
//! assert_eq!(p.top_decile_share, 1.0); // one customer of four holds it all
//! ```

use serde::{Deserialize, Serialize};

/// P(alive) at or above this counts as "likely active" in the quadrants.
pub const ACTIVE: f64 = 0.5;

/// Where a customer falls: likely active or not × value at or above the median or below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Likely active, high value: keep them.
    Champions,
    /// Likely gone, high value: worth winning back.
    AtRisk,
    /// Likely active, low value: room to grow.
    Promising,
    /// Likely gone, low value.
    Dormant,
}

impl Quadrant {
    /// Every quadrant, in the order shown.
    pub const ALL: [Quadrant; 4] = [Quadrant::Champions, Quadrant::AtRisk, Quadrant::Promising, Quadrant::Dormant];

    /// The quadrant of a customer with `p_alive` and `clv`, against the value threshold.
    pub fn of(p_alive: f64, clv: f64, threshold: f64) -> Quadrant {
        match (p_alive >= ACTIVE, clv >= threshold) {
            (true, true) => Quadrant::Champions,
            (false, true) => Quadrant::AtRisk,
            (true, false) => Quadrant::Promising,
            (false, false) => Quadrant::Dormant,
        }
    }

    /// Its name on the page and in file names.
    pub fn label(self) -> &'static str {
        match self {
            Quadrant::Champions => "Champions",
            Quadrant::AtRisk => "At risk",
            Quadrant::Promising => "Promising",
            Quadrant::Dormant => "Dormant",
        }
    }

    /// What it means, in a sentence.
    pub fn meaning(self) -> &'static str {
        match self {
            Quadrant::Champions => "likely still buying and worth the most: keep them",
            Quadrant::AtRisk => "worth a lot but probably gone: win them back",
            Quadrant::Promising => "likely still buying, worth less so far: grow them",
            Quadrant::Dormant => "probably gone and worth little",
        }
    }
}

/// One quadrant's customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuadrantCount {
    /// Which.
    pub quadrant: Quadrant,
    /// Customers in it.
    pub customers: usize,
    /// Their CLV, summed.
    pub clv: f64,
}

/// One bar of the CLV histogram: customers with CLV in `[low, high)` (the last bar includes its top).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueBin {
    /// Lower edge.
    pub low: f64,
    /// Upper edge.
    pub high: f64,
    /// Customers in the bin.
    pub customers: usize,
}

/// The customer base at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// Customers predicted.
    pub customers: usize,
    /// Expected customers still active: Σ P(alive).
    pub expected_active: f64,
    /// Σ CLV.
    pub total_clv: f64,
    /// Share of the total CLV held by the most valuable 10% of customers (at least one customer).
    pub top_decile_share: f64,
    /// Gini coefficient of CLV across customers (0: all equal; near 1: one customer holds it all).
    pub gini: f64,
    /// Lorenz curve, most valuable first: (share of customers, share of CLV) at 0, 5%, …, 100%.
    pub lorenz: Vec<(f64, f64)>,
    /// CLV histogram over [0, 99th percentile] in 20 bars, customers above it in a last bar.
    pub histogram: Vec<ValueBin>,
    /// The median CLV: the quadrants' value threshold.
    pub median_clv: f64,
    /// The four quadrants, in [`Quadrant::ALL`] order.
    pub quadrants: Vec<QuadrantCount>,
}

impl Portfolio {
    /// From each customer's `(P(alive), CLV)`; CLVs that are not finite count as 0 (never NaN
    /// in a figure).
    pub fn build(customers: &[(f64, f64)]) -> Portfolio {
        let n = customers.len();
        let mut clv: Vec<f64> = customers.iter().map(|&(_, v)| if v.is_finite() { v } else { 0.0 }).collect();
        clv.sort_by(|a, b| b.total_cmp(a));
        let total = crate::total(clv.iter().copied());
        let share = |v: f64| if total > 0.0 { v / total } else { 0.0 };
        let top = n.div_ceil(10);
        let top_decile_share = share(crate::total(clv[..top.min(n)].iter().copied()));
        let mut cumulative = vec![0.0; n + 1];
        for (i, v) in clv.iter().enumerate() {
            cumulative[i + 1] = cumulative[i] + v;
        }
        // Between whole customers the curve is straight (a customer's value taken in part).
        let lorenz = (0..=20)
            .map(|k| {
                let f = k as f64 / 20.0;
                let at = f * n as f64;
                let whole = (at.floor() as usize).min(n);
                let part = clv.get(whole).map_or(0.0, |v| (at - whole as f64) * v);
                (f, share(cumulative[whole] + part))
            })
            .collect();
        // G = 2 Σᵢ i·x₍ᵢ₎ / (n Σx) − (n + 1)/n over the values sorted ascending (i from 1).
        let gini = if total > 0.0 && n > 0 {
            let ranked: f64 = clv.iter().rev().enumerate().map(|(i, v)| (i + 1) as f64 * v).sum();
            (2.0 * ranked / (n as f64 * total) - (n as f64 + 1.0) / n as f64).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let median_clv = if n == 0 { 0.0 } else { clv[(n - 1) / 2].min(clv[n / 2]) };
        let quadrants = Quadrant::ALL
            .iter()
            .map(|&q| {
                let members = customers.iter().filter(|&&(p, v)| Quadrant::of(p, v, median_clv) == q);
                let (count, sum) =
                    members.fold((0, 0.0), |(c, s), &(_, v)| (c + 1, s + if v.is_finite() { v } else { 0.0 }));
                QuadrantCount { quadrant: q, customers: count, clv: sum }
            })
            .collect();
        Portfolio {
            customers: n,
            expected_active: crate::total(customers.iter().map(|&(p, _)| p)),
            total_clv: total,
            top_decile_share,
            gini,
            lorenz,
            histogram: histogram(&clv),
            median_clv,
            quadrants,
        }
    }
}

/// 20 equal bars from 0 (or the least value, if negative) to the 99th percentile, and one more
/// for the customers above it, so one huge customer does not squash the rest into a bar.
fn histogram(descending: &[f64]) -> Vec<ValueBin> {
    let n = descending.len();
    if n == 0 {
        return Vec::new();
    }
    let low = descending[n - 1].min(0.0);
    let p99 = descending[(n as f64 * 0.01).floor() as usize];
    let width = (p99 - low) / 20.0;
    if width.is_nan() || width <= 0.0 {
        return vec![ValueBin { low, high: descending[0], customers: n }];
    }
    let mut bins: Vec<ValueBin> = (0..20)
        .map(|i| ValueBin { low: low + i as f64 * width, high: low + (i + 1) as f64 * width, customers: 0 })
        .collect();
    let mut above = 0;
    for &v in descending {
        if v > p99 {
            above += 1;
        } else {
            bins[(((v - low) / width) as usize).min(19)].customers += 1;
        }
    }
    if above > 0 {
        bins.push(ValueBin { low: p99, high: descending[0], customers: above });
    }
    bins
}

/// One segment's share of the base (a users-file column or the channel/country of the first
/// purchase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentValue {
    /// The segment's value as written in the file ("(blank)" for an empty cell).
    pub segment: String,
    /// Its customers.
    pub customers: usize,
    /// Σ P(alive) over its customers.
    pub expected_active: f64,
    /// Σ CLV over its customers.
    pub total_clv: f64,
    /// The row that sums the segments beyond [`MAX_SEGMENTS`] (not one segment).
    #[serde(default)]
    pub rest: bool,
}

/// Most segments shown: the rest are summed into one "other segments" row, so a column of ids
/// does not make ten thousand bars.
pub const MAX_SEGMENTS: usize = 12;

/// The base split by `segments` (one label per customer, as `customers`), most valuable first;
/// beyond [`MAX_SEGMENTS`], the rest summed into "other segments (n)". CLVs that are not finite
/// count as 0, as in [`Portfolio::build`].
pub fn by_segment(customers: &[(f64, f64)], segments: &[&str]) -> Vec<SegmentValue> {
    let mut groups: std::collections::BTreeMap<&str, SegmentValue> = std::collections::BTreeMap::new();
    for (&(p, v), &s) in customers.iter().zip(segments) {
        let g = groups.entry(s).or_insert_with(|| SegmentValue {
            segment: s.to_string(),
            customers: 0,
            expected_active: 0.0,
            total_clv: 0.0,
            rest: false,
        });
        g.customers += 1;
        g.expected_active += if p.is_finite() { p } else { 0.0 };
        g.total_clv += if v.is_finite() { v } else { 0.0 };
    }
    let mut out: Vec<SegmentValue> = groups.into_values().collect();
    out.sort_by(|a, b| b.total_clv.total_cmp(&a.total_clv));
    if out.len() > MAX_SEGMENTS {
        let rest = out.split_off(MAX_SEGMENTS - 1);
        out.push(SegmentValue {
            segment: format!("other segments ({})", rest.len()),
            customers: rest.iter().map(|s| s.customers).sum(),
            expected_active: crate::total(rest.iter().map(|s| s.expected_active)),
            total_clv: crate::total(rest.iter().map(|s| s.total_clv)),
            rest: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: CLVs 40, 30, 20, 10 (total 100). Top decile: ⌈4/10⌉ = 1 customer, 40%.
    /// Gini = Σᵢ Σⱼ |xᵢ − xⱼ| / (2n² x̄) = 200 / (2·16·25) = 0.25. Median (lower middle) 20.
    #[test]
    fn concentration_and_quadrants_by_hand() {
        let p = Portfolio::build(&[(0.9, 40.0), (0.3, 30.0), (0.6, 20.0), (0.1, 10.0)]);
        assert_eq!((p.customers, p.total_clv, p.top_decile_share), (4, 100.0, 0.4));
        assert!((p.gini - 0.25).abs() < 1e-12, "{}", p.gini);
        assert!((p.expected_active - 1.9).abs() < 1e-12);
        assert_eq!(p.median_clv, 20.0);
        let count = |q| p.quadrants.iter().find(|c| c.quadrant == q).unwrap().customers;
        // 40 (active, ≥ 20) champion; 30 (gone, ≥ 20) at risk; 20 (active, ≥ 20) champion; 10 dormant.
        assert_eq!(
            [Quadrant::Champions, Quadrant::AtRisk, Quadrant::Promising, Quadrant::Dormant].map(count),
            [2, 1, 0, 1]
        );
        assert_eq!(p.quadrants.iter().map(|q| q.clv).sum::<f64>(), 100.0);
        // Lorenz: starts at (0, 0), ends at (1, 1), never below the diagonal (most valuable first).
        assert_eq!((p.lorenz[0], p.lorenz[20]), ((0.0, 0.0), (1.0, 1.0)));
        assert!(p.lorenz.iter().all(|&(x, y)| y >= x - 1e-12));
        assert_eq!(p.lorenz[5], (0.25, 0.4));
        assert_eq!(p.histogram.iter().map(|b| b.customers).sum::<usize>(), 4);
    }

    /// Equal values: no concentration; an empty base and NaN values give zeros, never NaN.
    #[test]
    fn limits_are_zero_not_nan() {
        let p = Portfolio::build(&vec![(1.0, 5.0); 50]);
        assert!(p.gini.abs() < 1e-12 && (p.top_decile_share - 0.1).abs() < 1e-12);
        assert_eq!(p.histogram.iter().filter(|b| b.customers > 0).count(), 1);
        let e = Portfolio::build(&[]);
        assert_eq!((e.total_clv, e.gini, e.top_decile_share, e.histogram.len()), (0.0, 0.0, 0.0, 0));
        let nan = Portfolio::build(&[(0.5, f64::NAN), (0.5, 2.0)]);
        assert_eq!(nan.total_clv, 2.0);
        assert!(nan.gini.is_finite() && nan.lorenz.iter().all(|(_, y)| y.is_finite()));
    }

    /// One very valuable customer among many: the histogram keeps the rest readable.
    #[test]
    fn an_outlier_gets_its_own_bar() {
        let mut c: Vec<(f64, f64)> = (0..199).map(|i| (0.5, i as f64 / 10.0)).collect();
        c.push((0.9, 1.0e6));
        let p = Portfolio::build(&c);
        assert_eq!(p.histogram.len(), 21);
        assert_eq!(p.histogram[20].customers, 2, "above the 99th percentile: the outlier and the next");
        assert!(p.top_decile_share > 0.99);
    }

    /// Hand-counted: segments sum to the base; most valuable first; a NaN CLV counts as 0;
    /// beyond twelve segments the rest are one row.
    #[test]
    fn segments_split_the_base() {
        let base = [(0.5, 10.0), (1.0, 30.0), (0.25, f64::NAN), (0.75, 5.0)];
        let s = by_segment(&base, &["web", "store", "web", "(blank)"]);
        assert_eq!(s.iter().map(|g| g.segment.as_str()).collect::<Vec<_>>(), ["store", "web", "(blank)"]);
        assert_eq!((s[1].customers, s[1].expected_active, s[1].total_clv), (2, 0.75, 10.0));
        let many: Vec<String> = (0..20).map(|i| format!("s{i:02}")).collect();
        let labels: Vec<&str> = many.iter().map(String::as_str).collect();
        let values: Vec<(f64, f64)> = (0..20).map(|i| (1.0, i as f64)).collect();
        let s = by_segment(&values, &labels);
        assert_eq!(s.len(), MAX_SEGMENTS);
        assert_eq!(s[0].segment, "s19");
        assert_eq!(s.last().unwrap().segment, "other segments (9)");
        assert!(s.last().unwrap().rest && !s[0].rest);
        assert_eq!(s.iter().map(|g| g.customers).sum::<usize>(), 20);
        assert_eq!(s.iter().map(|g| g.total_clv).sum::<f64>(), 190.0);
    }
}
