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
    /// Customers in it (a weighted row counts its weight).
    pub customers: f64,
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
    /// Customers in the bin (a weighted row counts its weight).
    pub customers: f64,
}

/// The customer base at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// Customers predicted (the sum of the weights).
    pub customers: f64,
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
        Portfolio::weighted(&customers.iter().map(|&(p, v)| (p, v, 1.0)).collect::<Vec<_>>())
    }

    /// From `(P(alive), CLV, weight)`: a row that stands for `weight` identical customers (a weighted
    /// summary file's pattern) counts as that many — the figures are those of the expanded base.
    pub fn weighted(customers: &[(f64, f64, f64)]) -> Portfolio {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        // Most valuable first; each entry (value, weight).
        let mut ranked: Vec<(f64, f64)> =
            customers.iter().filter(|c| c.2 > 0.0).map(|&(_, v, w)| (finite(v), w)).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let ranked = Ranked::new(ranked);
        let (n, total) = (ranked.weight, ranked.total);
        let share = |v: f64| if total > 0.0 { v / total } else { 0.0 };
        // The top 10% of customers, at least one whole one (⌈n/10⌉ customers).
        let top_decile_share = share(ranked.value_of_first((n / 10.0).ceil().min(n)));
        // Between whole customers the curve is straight (a customer's value taken in part).
        let lorenz = (0..=20).map(|k| k as f64 / 20.0).map(|f| (f, share(ranked.value_of_first(f * n)))).collect();
        let gini = ranked.gini();
        // The lower of the two middle customers.
        let median_clv =
            if n > 0.0 { ranked.at(((n - 1.0) / 2.0).floor()).min(ranked.at((n / 2.0).floor())) } else { 0.0 };
        let quadrants = Quadrant::ALL
            .iter()
            .map(|&q| {
                let members = customers.iter().filter(|&&(p, v, _)| Quadrant::of(p, v, median_clv) == q);
                let (count, sum) = members.fold((0.0, 0.0), |(c, s), &(_, v, w)| (c + w, s + w * finite(v)));
                QuadrantCount { quadrant: q, customers: count, clv: sum }
            })
            .collect();
        Portfolio {
            customers: n,
            expected_active: crate::total(customers.iter().map(|&(p, _, w)| w * p)),
            total_clv: total,
            top_decile_share,
            gini,
            lorenz,
            histogram: histogram(&ranked),
            median_clv,
            quadrants,
        }
    }
}

/// Customers' values, most valuable first, with their weights and running sums: the base as if
/// every weighted row were that many customers in a row.
struct Ranked {
    /// (value, weight), descending by value.
    rows: Vec<(f64, f64)>,
    /// Weight before each row, and value before each row (Σ w·v).
    weight_before: Vec<f64>,
    value_before: Vec<f64>,
    weight: f64,
    total: f64,
}

impl Ranked {
    fn new(rows: Vec<(f64, f64)>) -> Ranked {
        let (mut weight_before, mut value_before) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
        let (mut w, mut t) = (0.0, 0.0);
        for &(v, wt) in &rows {
            weight_before.push(w);
            value_before.push(t);
            w += wt;
            t += wt * v;
        }
        Ranked { rows, weight_before, value_before, weight: w, total: t }
    }

    /// The row holding customer number `k` (0-based, most valuable first).
    fn row_of(&self, k: f64) -> Option<usize> {
        let i = self.weight_before.partition_point(|&b| b <= k);
        i.checked_sub(1).filter(|&i| i < self.rows.len())
    }

    /// The value of customer number `k` (0-based, most valuable first); 0 past the end.
    fn at(&self, k: f64) -> f64 {
        self.row_of(k).map_or(0.0, |i| self.rows[i].0)
    }

    /// Σ value of the first `units` customers, a row taken in part where `units` ends inside it.
    fn value_of_first(&self, units: f64) -> f64 {
        if units >= self.weight {
            return self.total;
        }
        match self.row_of(units) {
            Some(i) => self.value_before[i] + (units - self.weight_before[i]) * self.rows[i].0,
            None => 0.0,
        }
    }

    /// G = 2 Σᵢ i·x₍ᵢ₎ / (n Σx) − (n + 1)/n over the values sorted ascending (i from 1), a row of
    /// weight w holding the w ranks after those below it.
    fn gini(&self) -> f64 {
        let (n, total) = (self.weight, self.total);
        if !(total > 0.0 && n > 0.0) {
            return 0.0;
        }
        // Ascending: the weight below a row is what comes after it in descending order.
        let ranks: f64 = self
            .rows
            .iter()
            .zip(&self.weight_before)
            .map(|(&(v, w), &before)| {
                let below = n - before - w;
                v * (w * below + w * (w + 1.0) / 2.0)
            })
            .sum();
        (2.0 * ranks / (n * total) - (n + 1.0) / n).clamp(0.0, 1.0)
    }
}

/// 20 equal bars from 0 (or the least value, if negative) to the 99th percentile, and one more
/// for the customers above it, so one huge customer does not squash the rest into a bar.
fn histogram(ranked: &Ranked) -> Vec<ValueBin> {
    let (rows, n) = (&ranked.rows, ranked.weight);
    let (Some(&(top, _)), Some(&(least, _))) = (rows.first(), rows.last()) else { return Vec::new() };
    let low = least.min(0.0);
    let p99 = ranked.at((n * 0.01).floor());
    let width = (p99 - low) / 20.0;
    if width.is_nan() || width <= 0.0 {
        return vec![ValueBin { low, high: top, customers: n }];
    }
    let mut bins: Vec<ValueBin> = (0..20)
        .map(|i| ValueBin { low: low + i as f64 * width, high: low + (i + 1) as f64 * width, customers: 0.0 })
        .collect();
    let mut above = 0.0;
    for &(v, w) in rows {
        if v > p99 {
            above += w;
        } else {
            bins[(((v - low) / width) as usize).min(19)].customers += w;
        }
    }
    if above > 0.0 {
        bins.push(ValueBin { low: p99, high: top, customers: above });
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
        assert_eq!((p.customers, p.total_clv, p.top_decile_share), (4.0, 100.0, 0.4));
        assert!((p.gini - 0.25).abs() < 1e-12, "{}", p.gini);
        assert!((p.expected_active - 1.9).abs() < 1e-12);
        assert_eq!(p.median_clv, 20.0);
        let count = |q| p.quadrants.iter().find(|c| c.quadrant == q).unwrap().customers;
        // 40 (active, ≥ 20) champion; 30 (gone, ≥ 20) at risk; 20 (active, ≥ 20) champion; 10 dormant.
        assert_eq!(
            [Quadrant::Champions, Quadrant::AtRisk, Quadrant::Promising, Quadrant::Dormant].map(count),
            [2.0, 1.0, 0.0, 1.0]
        );
        assert_eq!(p.quadrants.iter().map(|q| q.clv).sum::<f64>(), 100.0);
        // Lorenz: starts at (0, 0), ends at (1, 1), never below the diagonal (most valuable first).
        assert_eq!((p.lorenz[0], p.lorenz[20]), ((0.0, 0.0), (1.0, 1.0)));
        assert!(p.lorenz.iter().all(|&(x, y)| y >= x - 1e-12));
        assert_eq!(p.lorenz[5], (0.25, 0.4));
        assert_eq!(p.histogram.iter().map(|b| b.customers).sum::<f64>(), 4.0);
    }

    /// A weighted row is that many identical customers: every figure equals the expanded base's.
    #[test]
    fn weights_are_customers() {
        let rows = [(0.9, 40.0, 3.0), (0.3, 30.0, 1.0), (0.6, 20.0, 2.5), (0.1, 10.0, 4.0), (0.5, 99.0, 0.0)];
        let w = Portfolio::weighted(&rows);
        let expanded: Vec<(f64, f64)> =
            [(0.9, 40.0, 3), (0.3, 30.0, 1), (0.6, 20.0, 2), (0.6, 20.0, 1), (0.1, 10.0, 4)]
                .iter()
                .flat_map(|&(p, v, k)| std::iter::repeat_n((p, v), k))
                .collect();
        // 2.5 customers of value 20 are not expandable; compare with the half customer's figures by hand.
        assert_eq!((w.customers, w.total_clv), (10.5, 120.0 + 30.0 + 50.0 + 40.0));
        assert!((w.expected_active - (2.7 + 0.3 + 1.5 + 0.4)).abs() < 1e-12);
        // ⌈10.5 / 10⌉ = 2 customers, both worth 40: 80 of 240.
        assert!((w.top_decile_share - 80.0 / 240.0).abs() < 1e-12);
        assert_eq!(w.median_clv, 20.0, "customers 4.75 and 5.25 of 10.5 (0-based 4 and 5) are worth 20");
        assert_eq!(w.quadrants.iter().map(|q| q.customers).sum::<f64>(), 10.5);
        assert_eq!(w.histogram.iter().map(|b| b.customers).sum::<f64>(), 10.5);
        // With whole weights, exactly the expanded base.
        let whole = [(0.9, 40.0, 3.0), (0.3, 30.0, 1.0), (0.6, 20.0, 3.0), (0.1, 10.0, 4.0)];
        let (a, b) = (Portfolio::weighted(&whole), Portfolio::build(&expanded));
        assert_eq!(
            (a.customers, a.total_clv, a.median_clv, a.top_decile_share),
            (b.customers, b.total_clv, b.median_clv, b.top_decile_share)
        );
        assert!((a.gini - b.gini).abs() < 1e-12, "{} vs {}", a.gini, b.gini);
        for (x, y) in a.lorenz.iter().zip(&b.lorenz) {
            assert!((x.1 - y.1).abs() < 1e-12, "{x:?} vs {y:?}");
        }
        assert_eq!(a.quadrants, b.quadrants);
        assert_eq!(a.histogram, b.histogram);
    }

    /// Equal values: no concentration; an empty base and NaN values give zeros, never NaN.
    #[test]
    fn limits_are_zero_not_nan() {
        let p = Portfolio::build(&vec![(1.0, 5.0); 50]);
        assert!(p.gini.abs() < 1e-12 && (p.top_decile_share - 0.1).abs() < 1e-12);
        assert_eq!(p.histogram.iter().filter(|b| b.customers > 0.0).count(), 1);
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
        assert_eq!(p.histogram[20].customers, 2.0, "above the 99th percentile: the outlier and the next");
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
