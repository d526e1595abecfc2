//! Accuracy metrics for holdout evaluation. Each metric judges the forecast
//! it suits: MAE is minimised by the median, RMSE and the total by the mean.

/// Mean absolute error.
pub fn mae(pred: &[f64], actual: &[f64]) -> f64 {
    crate::total(pred.iter().zip(actual).map(|(p, a)| (p - a).abs())) / pred.len().max(1) as f64
}

/// Root mean squared error.
pub fn rmse(pred: &[f64], actual: &[f64]) -> f64 {
    (crate::total(pred.iter().zip(actual).map(|(p, a)| (p - a).powi(2))) / pred.len().max(1) as f64).sqrt()
}

/// Total bias in percent: 100 (Σ pred − Σ actual) / Σ actual.
pub fn bias_percent(pred: &[f64], actual: &[f64]) -> Option<f64> {
    let a = crate::total(actual.iter().copied());
    (a != 0.0).then(|| 100.0 * (crate::total(pred.iter().copied()) - a) / a)
}

/// Pearson correlation; `None` when either side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = crate::total(x.iter().copied()) / n as f64;
    let my = crate::total(y.iter().copied()) / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Ranks with ties averaged (1-based).
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Spearman rank correlation (Pearson on tie-averaged ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// Gini of actual value with customers ordered by predicted value:
/// 2 × (area under the Lorenz curve of captured value) − 1. 0 is a random
/// ordering; the best possible is the Gini of the actuals ordered by themselves.
pub fn gini(pred: &[f64], actual: &[f64]) -> Option<f64> {
    let total = crate::total(actual.iter().copied());
    if total <= 0.0 || pred.is_empty() {
        return None;
    }
    let mut idx: Vec<usize> = (0..pred.len()).collect();
    idx.sort_by(|&a, &b| pred[b].total_cmp(&pred[a]));
    let n = idx.len() as f64;
    let (mut cum, mut area) = (0.0, 0.0);
    for &i in &idx {
        let prev = cum;
        cum += actual[i] / total;
        area += (prev + cum) / 2.0 / n;
    }
    Some(2.0 * area - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let p = [1.0, 2.0, 3.0];
        let a = [1.0, 1.0, 5.0];
        assert!((mae(&p, &a) - (0.0 + 1.0 + 2.0) / 3.0).abs() < 1e-15);
        assert!((rmse(&p, &a) - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!((bias_percent(&p, &a).unwrap() - 100.0 * (6.0 - 7.0) / 7.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-15);
        assert_eq!(pearson(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 5.0]), vec![2.5, 4.0, 2.5, 1.0]);
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 4.0, 9.0, 16.0]).unwrap() - 1.0).abs() < 1e-15);
        // Perfect ordering of [0, 0, 0, 4] by prediction: all value in the first quarter.
        let g = gini(&[0.0, 0.0, 0.0, 1.0], &[0.0, 0.0, 0.0, 4.0]).unwrap();
        assert!((g - 0.75).abs() < 1e-12, "{g}");
        // Reversed ordering is worse than random.
        assert!(gini(&[1.0, 1.0, 1.0, 0.0], &[0.0, 0.0, 0.0, 4.0]).unwrap() < 0.0);
    }
}
