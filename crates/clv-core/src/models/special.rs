//! Special functions in log space: `ln Γ`, `ln B`, log-sum-exp, and the
//! Gaussian hypergeometric function ₂F₁ (no maintained crate computes it
//! reliably near z = 1; see `CRATES.md` §9).

pub use statrs::function::gamma::{digamma, ln_gamma};

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Below this argument ln Γ and ψ differences are taken directly; above it
/// by the asymptotic series, whose next term is under 10⁻¹⁵ of the result at
/// z = 10 (Abramowitz & Stegun 6.1.41, 6.3.18).
const ASYMPTOTIC_FROM: f64 = 10.0;

/// Σ B₂ₖ/(2k(2k−1) z^(2k−1)), k = 1..6: the Stirling correction of ln Γ
/// (A&S 6.1.41); its first omitted term is 1/(156 z¹³).
fn stirling_tail(z: f64) -> f64 {
    let z2 = 1.0 / (z * z);
    (1.0 / 12.0
        + z2 * (-1.0 / 360.0
            + z2 * (1.0 / 1260.0 + z2 * (-1.0 / 1680.0 + z2 * (1.0 / 1188.0 + z2 * (-691.0 / 360_360.0))))))
        / z
}

/// Σ B₂ₖ/(2k z^(2k)), k = 1..6: ψ(z) = ln z − 1/(2z) − this (A&S 6.3.18).
fn digamma_tail(z: f64) -> f64 {
    let z2 = 1.0 / (z * z);
    z2 * (1.0 / 12.0
        + z2 * (-1.0 / 120.0
            + z2 * (1.0 / 252.0 + z2 * (-1.0 / 240.0 + z2 * (1.0 / 132.0 + z2 * (-691.0 / 32_760.0))))))
}

/// ln Γ(z + x) − ln Γ(z) for z > 0, x ≥ 0, exact to rounding even when z is
/// huge: the difference of two ln Γ values near 10¹² · 27 would keep only
/// its leading digits (BG/NBD with r → ∞ then reported ln L = +10³⁵). For
/// z ≥ 10 Stirling's series is differenced term by term, with
/// (z − ½)·ln(1 + x/z) through `ln_1p`.
pub fn ln_gamma_ratio(z: f64, x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    if z < ASYMPTOTIC_FROM {
        return ln_gamma(z + x) - ln_gamma(z);
    }
    (z - 0.5) * (x / z).ln_1p() + x * (z + x).ln() - x + (stirling_tail(z + x) - stirling_tail(z))
}

/// ψ(z + x) − ψ(z) for z > 0, x ≥ 0, without the cancellation of two ψ
/// values near ln z (the gradient multiplies it by z, so at z = 10¹² the
/// plain difference was wrong in the third digit).
pub fn digamma_diff(z: f64, x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    if z < ASYMPTOTIC_FROM {
        return digamma(z + x) - digamma(z);
    }
    (x / z).ln_1p() + x / (2.0 * z * (z + x)) - (digamma_tail(z + x) - digamma_tail(z))
}

/// ln B(a, b + x) − ln B(a, b) = [ln Γ(b+x) − ln Γ(b)] − [ln Γ(a+b+x) − ln Γ(a+b)],
/// both differences taken stably.
pub fn ln_beta_ratio(a: f64, b: f64, x: f64) -> f64 {
    ln_gamma_ratio(b, x) - ln_gamma_ratio(a + b, x)
}

/// ln(eᵃ + eᵇ) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// ln Σ eˣⁱ.
pub fn log_sum_exp(xs: impl IntoIterator<Item = f64> + Clone) -> f64 {
    let m = xs.clone().into_iter().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + crate::total(xs.into_iter().map(|x| (x - m).exp())).ln()
}

/// ln Σ eˣⁱ accumulated one term at a time (rescaled when a larger term
/// arrives), for sums too long to collect first.
pub struct LogSum {
    max: f64,
    scaled: f64,
}

impl LogSum {
    /// A sum whose first term is e^`first` (`first` may be −∞: an empty sum).
    pub fn new(first: f64) -> LogSum {
        LogSum { max: first, scaled: 1.0 }
    }

    /// Add the term eˣ. −∞ adds nothing; NaN, or +∞ once a finite term is in, makes the value NaN.
    pub fn add(&mut self, x: f64) {
        if x == f64::NEG_INFINITY {
            return;
        }
        if x <= self.max {
            self.scaled += (x - self.max).exp();
        } else if x.is_finite() || self.max == f64::NEG_INFINITY {
            self.scaled = self.scaled * (self.max - x).exp() + 1.0;
            self.max = x;
        } else {
            self.scaled = f64::NAN; // +∞ or NaN: no sum
        }
    }

    /// ln of the sum so far (−∞ when every term was −∞).
    pub fn value(&self) -> f64 {
        if self.max == f64::NEG_INFINITY {
            return f64::NEG_INFINITY;
        }
        self.max + self.scaled.ln()
    }
}

/// Why [`ln_hyp2f1`] has no answer; each variant carries the arguments of ₂F₁(a, b; c; z).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Hyp2f1Error {
    /// Outside the domain the series is computed on: z not in [0, 1), c ≤ 0 or NaN, or a or b
    /// not finite.
    #[error("2F1({a}, {b}; {c}; {z}): z must be in [0, 1)")]
    Domain {
        /// First upper parameter.
        a: f64,
        /// Second upper parameter.
        b: f64,
        /// Lower parameter.
        c: f64,
        /// Argument.
        z: f64,
    },
    /// The series had not reached full precision after `terms` terms (z very close to 1).
    #[error("2F1({a}, {b}; {c}; {z}): series did not converge in {terms} terms")]
    NotConverged {
        /// First upper parameter.
        a: f64,
        /// Second upper parameter.
        b: f64,
        /// Lower parameter.
        c: f64,
        /// Argument.
        z: f64,
        /// Terms summed before giving up.
        terms: usize,
    },
    /// The sum is ≤ 0 (possible only with negative a or b), so it has no logarithm.
    #[error("2F1({a}, {b}; {c}; {z}) is not positive; its logarithm is undefined")]
    NotPositive {
        /// First upper parameter.
        a: f64,
        /// Second upper parameter.
        b: f64,
        /// Lower parameter.
        c: f64,
        /// Argument.
        z: f64,
    },
}

/// Terms before giving up (z = 0.9999 needs ~4·10⁵ for full precision).
const MAX_TERMS: usize = 2_000_000;

/// ln ₂F₁(a, b; c; z) for real a, b, c with c > 0 and 0 ≤ z < 1.
///
/// The Gauss series (DLMF 15.2.1) is summed term by term with periodic
/// rescaling and the result returned as a logarithm, so terms of size
/// e^10000 (heavy buyers: a, b ~ 10⁴) neither overflow nor lose the sum. When c − a − b < 0 the series' terms
/// grow like n^(a+b−c−1) before z^n wins; Euler's transformation (DLMF 15.8.1)
/// ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z)
/// turns that into decay n^(c−a−b−1) and keeps all terms positive when
/// c − a > 0 and c − b > 0 (the Pareto/NBD case, c = a + 1).
/// Stops when the remaining tail, bounded by a geometric series with the
/// current term ratio, is below 1e-17 of the sum.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, Hyp2f1Error> {
    if !(0.0..1.0).contains(&z) || c.is_nan() || c <= 0.0 || !a.is_finite() || !b.is_finite() {
        return Err(Hyp2f1Error::Domain { a, b, c, z });
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return Ok(0.0);
    }
    let euler = c - a - b < 0.0 && c - a > 0.0 && c - b > 0.0;
    let (sa, sb, prefactor) = if euler { (c - a, c - b, (c - a - b) * (-z).ln_1p()) } else { (a, b, 0.0) };
    let ln_sum = ln_gauss_series(sa, sb, c, z).map_err(|terms| Hyp2f1Error::NotConverged { a, b, c, z, terms })?;
    match ln_sum {
        Some(s) => Ok(prefactor + s),
        None => Err(Hyp2f1Error::NotPositive { a, b, c, z }),
    }
}

/// ln Σₙ (a)ₙ(b)ₙ/((c)ₙ n!) zⁿ, or `None` if the sum is ≤ 0; `Err(terms)` if
/// it did not converge.
///
/// Terms are multiplied in linear space (one division per term, no `ln`)
/// and the running sum is rescaled by e^-600 whenever the current term
/// passes e^600, so terms of any size are summed without overflow.
fn ln_gauss_series(a: f64, b: f64, c: f64, z: f64) -> Result<Option<f64>, usize> {
    const RESCALE_AT: f64 = 1e250;
    let mut scale = 0.0f64; // the true sum is `sum · e^scale`
    let mut sum = 1.0f64;
    let mut carry = 0.0f64; // Kahan compensation: 10⁵ terms lose no digits
    let mut term = 1.0f64;
    for n in 0..MAX_TERMS {
        let nf = n as f64;
        let ratio = (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0));
        if ratio == 0.0 {
            return Ok(finish(sum, scale)); // a or b is a non-positive integer: a polynomial
        }
        term *= ratio * z;
        if term.abs() > RESCALE_AT {
            let k = RESCALE_AT.ln();
            term /= RESCALE_AT;
            sum /= RESCALE_AT;
            carry /= RESCALE_AT;
            scale += k;
        }
        let y = term - carry;
        let t = sum + y;
        carry = (t - sum) - y;
        sum = t;
        // Later ratios f(m)·z are ≤ max(f(n+1), 1)·z once f is past its peak
        // (f → 1 as m → ∞, and has at most one turning point), so the tail
        // after this term is at most |term|·r/(1 − r).
        let next = (a + nf + 1.0) * (b + nf + 1.0) / ((c + nf + 1.0) * (nf + 2.0));
        let r = next.abs().max(1.0) * z;
        if r < 1.0 && nf + 1.0 > (a + b - c - 1.0).max(0.0) {
            let tail = term.abs() * r / (1.0 - r);
            if tail <= 1e-17 * sum.abs() {
                return Ok(finish(sum, scale));
            }
        }
    }
    Err(MAX_TERMS)
}

fn finish(scaled: f64, scale: f64) -> Option<f64> {
    (scaled > 0.0).then(|| scale + scaled.ln())
}

/// 48-point Gauss–Legendre nodes and weights on [−1, 1].
pub(crate) fn gauss_legendre() -> &'static [(f64, f64)] {
    use std::sync::OnceLock;
    static NODES: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    NODES.get_or_init(|| gauss_legendre_rule(48))
}

/// 20-point rule for `panel_terms`: each panel is at least three
/// half-widths from the integrand's singularity, where an n-point rule errs
/// by ~(3 + √8)^(−2n) ≈ 10⁻³¹ — 48 points there only cost time (Pareto/NBD
/// fits at the dropout boundary spend most of theirs in these panels).
fn gauss_legendre_20() -> &'static [(f64, f64)] {
    use std::sync::OnceLock;
    static NODES: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    NODES.get_or_init(|| gauss_legendre_rule(20))
}

/// 10-point rule for Gamma–Gompertz/NBD's pieces, each sized so that 10 points suffice (see
/// `gamma_gompertz`).
pub(crate) fn gauss_legendre_10() -> &'static [(f64, f64)] {
    use std::sync::OnceLock;
    static NODES: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    NODES.get_or_init(|| gauss_legendre_rule(10))
}

/// n-point Gauss–Legendre nodes and weights on [−1, 1] (Newton on Pₙ).
fn gauss_legendre_rule(n: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        out.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    out
}

/// Argument above which [`ln_hyp2f1_c_a1_scaled`] takes the integral instead
/// of the series: the series needs ~40/(1 − z) terms there (10⁵ at z = 0.9996).
pub const NEAR_ONE: f64 = 0.9;

/// ln[w^(b−1) ₂F₁(a, b; a + 1; z)], w = 1 − z given without cancellation:
/// the form Pareto/NBD needs. ₂F₁ alone grows like w^(1−b), and with b
/// near 10⁸ (dropout or purchase rates without heterogeneity) its logarithm
/// and the power it is multiplied by cancel to noise; here the power is
/// taken inside. For z ≤ [`NEAR_ONE`] and 1 < b < a + 1, Euler's transformation
/// (DLMF 15.8.1) gives it exactly as the series ₂F₁(1, a+1−b; a+1; z), whose
/// terms fall at least like zⁿ. Above it, Euler's integral (DLMF 15.6.1 with
/// c − a = 1) and u = e^(−y/a):
///
/// ```text
/// ₂F₁(a, b; a+1; z) = a ∫₀¹ u^(a−1) (1 − zu)^(−b) du = ∫₀^∞ e^(−y) (w + zE)^(−b) dy,  E = −expm1(−y/a)
/// ```
///
/// with the power taken inside: w^(b−1)(w + zE)^(−b) = (1 + zE/w)^(−b)/w. The
/// integrand's only near-singularity is at y ≈ −a·w and it falls by e⁻¹ over
/// y ≈ a·w/b, so graded panels (`panel_terms`) starting at that scale
/// stay three half-widths from it: ~10⁻¹⁵ relative. This keeps Pareto/NBD
/// fast when a fit heads for a boundary (z → 1: a few hundred terms instead
/// of 10⁵ per (x, t) pair).
pub fn ln_hyp2f1_c_a1_scaled(a: f64, b: f64, z: f64, w: f64) -> Result<f64, Hyp2f1Error> {
    if !((0.0..1.0).contains(&z) && a > 0.0 && b > 0.0) {
        return Err(Hyp2f1Error::Domain { a, b, c: a + 1.0, z });
    }
    if z > NEAR_ONE {
        return Ok(-w.ln() + log_sum_exp(laplace_nodes(a, b, z, w).iter().map(|&(_, t)| t)));
    }
    let not_converged = |terms| Hyp2f1Error::NotConverged { a, b, c: a + 1.0, z, terms };
    // Euler's form keeps every term positive only while a + 1 − b > 0 (always
    // so for Pareto/NBD, where a + 1 − b is r + x or s + 1).
    let ln_sum = if b > 1.0 && a + 1.0 - b > 0.0 {
        ln_gauss_series(1.0, a + 1.0 - b, a + 1.0, z).map_err(not_converged)?
    } else {
        ln_gauss_series(a, b, a + 1.0, z).map_err(not_converged)?.map(|v| v + (b - 1.0) * w.ln())
    };
    ln_sum.ok_or(Hyp2f1Error::NotPositive { a, b, c: a + 1.0, z })
}

/// The integral of [`ln_hyp2f1_c_a1_scaled`] above [`NEAR_ONE`] as its quadrature nodes: (y,
/// ln(weight · h(y))) with h(y) = e^(−y) (1 + zE/w)^(−b), E = −expm1(−y/a), on panels starting at
/// its scale a·w/b. The value is their log-sum-exp (less ln w); [`hyp2f1_c_a1_moments`] averages
/// over the same nodes.
fn laplace_nodes(a: f64, b: f64, z: f64, w: f64) -> Vec<(f64, f64)> {
    panel_terms(|y| -y - b * (-(z / w) * (-y / a).exp_m1()).ln_1p(), a * w / b.max(1.0))
}

/// ln ∫₀^∞ e^(ln_h(y)) dy, for an integrand that decays at least like e^(−y) and varies on the
/// scale `scale` near 0, as nodes y and ln(weight · h(y)): 20-point Gauss–Legendre panels graded
/// geometrically from min(scale, 1)/2 up to y = 48; the integral is their log-sum-exp.
fn panel_terms(ln_h: impl Fn(f64) -> f64, scale: f64) -> Vec<(f64, f64)> {
    let nodes = gauss_legendre_20();
    let mut terms = Vec::with_capacity(12 * nodes.len());
    // The floor keeps the panel count bounded (≤ ~1,000 doublings) when the
    // scale underflows — at 0 the width was 0 and the loop never ended,
    // allocating until the machine ran out of memory.
    let (mut lo, mut width) = (0.0, (0.5 * scale.min(1.0)).max(MIN_PANEL));
    let ln_weights: Vec<f64> = nodes.iter().map(|&(_, wt)| wt.ln()).collect();
    while lo < 48.0 {
        let (mid, half) = (lo + 0.5 * width, 0.5 * width);
        let ln_half = half.ln();
        terms.extend(nodes.iter().zip(&ln_weights).map(|(&(x, _), lw)| {
            let y = mid + half * x;
            (y, ln_half + lw + ln_h(y))
        }));
        lo += width;
        if lo >= width {
            width *= 2.0;
        }
    }
    terms
}

/// The narrowest first panel of `panel_terms`.
const MIN_PANEL: f64 = 1e-280;

/// Moments of u under the density ∝ u^(a−1) (1 − zu)^(−b) on [0, 1] — Euler's
/// integral I(a, b) = ₂F₁(a, b; a + 1; z)/a — which are what the derivatives of
/// ln I need: ∂ ln I/∂a = E[ln u], ∂ ln I/∂b = −E[ln(1 − zu)], and
/// I(a+1, b)/I(a, b) = E[u], I(a+1, b+1)/I(a, b) = E[u/(1 − zu)].
/// Pareto/NBD's closed-form gradient is made of these (see `pareto_nbd`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EulerMoments {
    /// ln[w^(b−1) ₂F₁(a, b; a + 1; z)], what [`ln_hyp2f1_c_a1_scaled`] returns, from the same sums
    /// (equal to it within rounding, not digit for digit).
    pub ln_scaled: f64,
    /// E[ln u].
    pub ln_u: f64,
    /// E[ln(1 − zu)].
    pub ln_one_minus_zu: f64,
    /// E[u].
    pub u: f64,
    /// E[u/(1 − zu)].
    pub u_over: f64,
}

/// [`EulerMoments`] of ₂F₁(a, b; a + 1; z), w = 1 − z given without
/// cancellation, by the same two routes as [`ln_hyp2f1_c_a1_scaled`]: above
/// [`NEAR_ONE`] the moments are averages over the nodes of its graded
/// Laplace-integral rule (u = e^(−y/a)); below it, series differentiated term
/// by term — Euler's form Σ (a+1−b)ₙ/(a+1)ₙ zⁿ (= w^(b−1) ₂F₁) when 1 < b < a + 1,
/// whose terms, and their a- and b-derivatives, all keep one sign, else the
/// Gauss series Σ (b)ₙ zⁿ/(n! (a+n)) of I itself (bounded terms when b ≤ 1).
pub fn hyp2f1_c_a1_moments(a: f64, b: f64, z: f64, w: f64) -> Result<EulerMoments, Hyp2f1Error> {
    if !((0.0..1.0).contains(&z) && a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()) {
        return Err(Hyp2f1Error::Domain { a, b, c: a + 1.0, z });
    }
    if z > NEAR_ONE {
        return Ok(moments_by_quadrature(a, b, z, w));
    }
    let not_converged = |terms| Hyp2f1Error::NotConverged { a, b, c: a + 1.0, z, terms };
    if b > 1.0 && a + 1.0 - b > 0.0 {
        euler_series_moments(a, b, z, w).ok_or_else(|| not_converged(SERIES_TERMS))
    } else {
        gauss_series_moments(a, b, z, w).ok_or_else(|| not_converged(SERIES_TERMS))
    }
}

/// Terms of the moment series before giving up: z ≤ 0.9 reaches 1e-18 in ~400.
const SERIES_TERMS: usize = 100_000;

fn moments_by_quadrature(a: f64, b: f64, z: f64, w: f64) -> EulerMoments {
    let terms = laplace_nodes(a, b, z, w);
    let top = terms.iter().fold(f64::NEG_INFINITY, |m, &(_, t)| m.max(t));
    let mut sums = [0.0f64; 5];
    for &(y, t) in &terms {
        let weight = (t - top).exp();
        let u = (-y / a).exp();
        let one_minus_zu = w + z * -(-y / a).exp_m1();
        let values = [1.0, -y / a, one_minus_zu.ln(), u, u / one_minus_zu];
        sums.iter_mut().zip(values).for_each(|(s, v)| *s += weight * v);
    }
    EulerMoments {
        ln_scaled: -w.ln() + top + sums[0].ln(),
        ln_u: sums[1] / sums[0],
        ln_one_minus_zu: sums[2] / sums[0],
        u: sums[3] / sums[0],
        u_over: sums[4] / sums[0],
    }
}

/// Euler's form: I(a, b) = w^(1−b) S₀/a with S₀ = Σ tₙ, tₙ = (a+1−b)ₙ/(a+1)ₙ zⁿ; likewise
/// I(a+1, b) = w^(1−b) S₁/(a+1) and I(a+1, b+1) = w^(−b) S₂/(a+1). The term ratios are below
/// z, so every sum is bounded by 1/w.
fn euler_series_moments(a: f64, b: f64, z: f64, w: f64) -> Option<EulerMoments> {
    let c = a + 1.0 - b;
    let (mut t, mut t1, mut t2) = (1.0f64, 1.0f64, 1.0f64);
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    // Σ tₙ ∂ln tₙ/∂a and Σ tₙ ∂ln tₙ/∂b, with the running sums of those log-derivatives.
    let (mut da, mut db, mut run_a, mut run_b) = (0.0, 0.0, 0.0f64, 0.0f64);
    for n in 0..SERIES_TERMS {
        s0 += t;
        s1 += t1;
        s2 += t2;
        da += t * run_a;
        db += t * run_b;
        if t.max(t1).max(t2) * (1.0 + run_a.abs() + run_b.abs()) < 1e-18 * s0.min(s1).min(s2) {
            return Some(EulerMoments {
                ln_scaled: s0.ln(),
                ln_u: da / s0 - 1.0 / a,
                ln_one_minus_zu: w.ln() - db / s0,
                u: s1 / s0 * a / (a + 1.0),
                u_over: s2 / s0 * a / ((a + 1.0) * w),
            });
        }
        let k = n as f64;
        run_a += 1.0 / (c + k) - 1.0 / (a + 1.0 + k);
        run_b -= 1.0 / (c + k);
        t *= (c + k) / (a + 1.0 + k) * z;
        t1 *= (c + 1.0 + k) / (a + 2.0 + k) * z;
        t2 *= (c + k) / (a + 2.0 + k) * z;
    }
    None
}

/// The Gauss series of I itself: I(a, b) = Σ cₙ/(a+n), cₙ = (b)ₙ zⁿ/n! (≤ zⁿ for b ≤ 1), and
/// I(a+1, b+1) = Σ cₙ (b+n)/(b (a+1+n)), since (b+1)ₙ = (b)ₙ (b+n)/b.
fn gauss_series_moments(a: f64, b: f64, z: f64, w: f64) -> Option<EulerMoments> {
    let mut c = 1.0f64;
    let mut harmonic = 0.0f64; // Σ_{k<n} 1/(b+k) = ∂ln (b)ₙ/∂b
    let mut sums = [0.0f64; 5];
    for n in 0..SERIES_TERMS {
        let k = n as f64;
        let terms = [
            c / (a + k),
            -c / ((a + k) * (a + k)),
            -c * harmonic / (a + k),
            c / (a + 1.0 + k),
            c * (b + k) / (b * (a + 1.0 + k)),
        ];
        sums.iter_mut().zip(terms).for_each(|(s, v)| *s += v);
        if terms.iter().all(|v| v.abs() < 1e-18 * sums[0]) && c * (b + k) / b < 1e-18 * sums[0] {
            return Some(EulerMoments {
                // ₂F₁ = a·I.
                ln_scaled: a.ln() + sums[0].ln() + (b - 1.0) * w.ln(),
                ln_u: sums[1] / sums[0],
                ln_one_minus_zu: sums[2] / sums[0],
                u: sums[3] / sums[0],
                u_over: sums[4] / sums[0],
            });
        }
        harmonic += 1.0 / (b + k);
        c *= (b + k) / (k + 1.0) * z;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integral route (z > 0.9) against the series where both are
    /// accurate, and against mpmath where the series is slow
    /// (hyp2f1_mpmath.csv rows with c = a + 1, z > 0.9).
    #[test]
    fn near_one_integral_agrees_with_series_and_mpmath() {
        let unscaled = |a: f64, b: f64, z: f64, w: f64| ln_hyp2f1_c_a1_scaled(a, b, z, w).unwrap() - (b - 1.0) * w.ln();
        for (a, b) in [(0.55, 0.6), (3.2, 1.7), (40.0, 12.5), (900.0, 0.48), (950.0, 221.0), (0.3, 60.0)] {
            for w in [0.1, 0.05, 0.01, 0.002] {
                let z = 1.0 - w;
                let series = ln_hyp2f1(a, b, a + 1.0, z).unwrap();
                let integral = unscaled(a, b, z, w);
                assert!(
                    (series - integral).abs() < 1e-12 * series.abs().max(1.0),
                    "a={a} b={b} z={z}: {series} vs {integral}"
                );
            }
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/fixtures/hyp2f1_mpmath.csv");
        let mut checked = 0;
        for line in std::fs::read_to_string(path).unwrap().lines().skip(1) {
            let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let (a, b, c, z, want) = (v[0], v[1], v[2], v[3], v[4]);
            if c == a + 1.0 && z > NEAR_ONE {
                let got = unscaled(a, b, z, 1.0 - z);
                assert!((got - want).abs() < 1e-12 * want.abs().max(1.0), "{line}: {got}");
                checked += 1;
            }
        }
        assert_eq!(checked, 11);
    }

    /// ln[w^(b−1) ₂F₁(a, b; a+1; z)] on both of its routes (Euler series,
    /// scaled integral) against every c = a + 1 row of the mpmath fixture.
    #[test]
    fn scaled_form_agrees_with_mpmath() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/fixtures/hyp2f1_mpmath.csv");
        let mut checked = 0;
        for line in std::fs::read_to_string(path).unwrap().lines().skip(1) {
            let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            let (a, b, c, z, want) = (v[0], v[1], v[2], v[3], v[4]);
            if c == a + 1.0 && z > 0.0 {
                let w = 1.0 - z;
                let got = ln_hyp2f1_c_a1_scaled(a, b, z, w).unwrap() - (b - 1.0) * w.ln();
                assert!((got - want).abs() < 1e-11 * want.abs().max(1.0), "{line}: {got}");
                checked += 1;
            }
        }
        assert!(checked > 80, "{checked}");
        // z = 0.99999, b = 10⁸: the scaled value is moderate although ₂F₁ is e^(10⁹).
        let v = ln_hyp2f1_c_a1_scaled(1e8 + 3.0, 1e8, 0.99999, 1e-5).unwrap();
        assert!(v.is_finite() && v.abs() < 50.0, "{v}");
        assert!(ln_hyp2f1_c_a1_scaled(1.0, 1.0, 1.0, 0.0).is_err());
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn closed_forms() {
        // 2F1(1, 1; 2; z) = −ln(1 − z)/z (DLMF 15.4.2)
        for z in [0.001f64, 0.3, 0.9, 0.999] {
            let want = (-(-z).ln_1p() / z).ln();
            assert!((ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap() - want).abs() < 2e-15, "z={z}");
        }
        // 2F1(a, b; b; z) = (1 − z)^(−a)
        let got = ln_hyp2f1(2.5, 3.0, 3.0, 0.7).unwrap();
        assert!(close(got, -2.5 * (0.3f64).ln(), 1e-13));
        // a polynomial: 2F1(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1))
        let (b, c, z) = (1.5, 2.0, 0.4);
        let want = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
        assert!(close(ln_hyp2f1(-2.0, b, c, z).unwrap(), want.ln(), 1e-13));
    }

    /// The moments are ln I's derivatives and ratios, I(a, b) = w^(1−b) e^scaled/a
    /// from [`ln_hyp2f1_c_a1_scaled`] (itself checked against mpmath): central
    /// differences for E[ln u] and E[ln(1 − zu)], exact ratios for E[u] and
    /// E[u/(1 − zu)] — on both sides of [`NEAR_ONE`] and through both series.
    #[test]
    fn euler_moments_are_the_derivatives_and_ratios_of_the_integral() {
        let ln_i =
            |a: f64, b: f64, z: f64, w: f64| (1.0 - b) * w.ln() + ln_hyp2f1_c_a1_scaled(a, b, z, w).unwrap() - a.ln();
        let mut checked = 0;
        for a in [0.3, 2.0, 7.5, 60.0, 3e3, 2e6] {
            for b in [0.2, 0.9, 1.0, 1.6, 4.0, 40.0, 1e5] {
                if b > 1.0 && b >= a + 1.0 {
                    continue; // never Pareto/NBD's: a + 1 − b is r + x or s + 1 there
                }
                for w in [1.0, 0.95, 0.5, 0.12, 0.08, 1e-3, 1e-7] {
                    let z = 1.0 - w;
                    let m = hyp2f1_c_a1_moments(a, b, z, w).unwrap();
                    let i0 = ln_i(a, b, z, w);
                    let (ha, hb) = (1e-5 * a, 1e-5 * b);
                    let d_a = (ln_i(a + ha, b, z, w) - ln_i(a - ha, b, z, w)) / (2.0 * ha);
                    let d_b = (ln_i(a, b + hb, z, w) - ln_i(a, b - hb, z, w)) / (2.0 * hb);
                    let ratio_u = (ln_i(a + 1.0, b, z, w) - i0).exp();
                    let ratio_over = (ln_i(a + 1.0, b + 1.0, z, w) - i0).exp();
                    // A difference quotient's rounding: ~ε |ln I| / h.
                    let noise = |h: f64| 1e-14 * (i0.abs() + 1.0) / h;
                    let near = |got: f64, want: f64, tol: f64| (got - want).abs() <= tol * want.abs();
                    let at = format!("a={a} b={b} z={z}: {m:?}");
                    assert!((m.ln_u - d_a).abs() <= 1e-7 * d_a.abs() + noise(ha), "E ln u {d_a} at {at}");
                    assert!(
                        (m.ln_one_minus_zu + d_b).abs() <= 1e-7 * d_b.abs() + noise(hb),
                        "E ln(1-zu) {} at {at}",
                        -d_b
                    );
                    assert!(near(m.u, ratio_u, 1e-10), "E u {ratio_u} at {at}");
                    assert!(near(m.u_over, ratio_over, 1e-10), "E u/(1-zu) {ratio_over} at {at}");
                    let scaled = ln_hyp2f1_c_a1_scaled(a, b, z, w).unwrap();
                    assert!((m.ln_scaled - scaled).abs() <= 1e-13 * scaled.abs().max(1.0), "value {scaled} at {at}");
                    assert!(m.u > 0.0 && m.u <= 1.0 && m.ln_u <= 0.0 && m.ln_one_minus_zu <= 0.0, "{at}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn domain_and_sign_errors() {
        assert!(matches!(ln_hyp2f1(1.0, 1.0, 2.0, 1.0), Err(Hyp2f1Error::Domain { .. })));
        assert!(matches!(ln_hyp2f1(1.0, 1.0, 0.0, 0.5), Err(Hyp2f1Error::Domain { .. })));
        // 2F1(−1, 1; 1; z) = 1 − z < 0 would need z > 1; 2F1(−3, 2; 1; 0.9) is negative.
        assert!(matches!(ln_hyp2f1(-3.0, 2.0, 1.0, 0.9), Err(Hyp2f1Error::NotPositive { .. })));
    }

    #[test]
    fn log_helpers() {
        assert!(close(log_add_exp(1000.0, 1000.0), 1000.0 + 2f64.ln(), 1e-15));
        assert_eq!(log_add_exp(f64::NEG_INFINITY, 3.0), 3.0);
        assert!(close(log_sum_exp([0.0, 0.0, 0.0]), 3f64.ln(), 1e-15));
        assert!(close(ln_beta(2.0, 3.0), (1.0f64 / 12.0).ln(), 1e-14));
    }
}
