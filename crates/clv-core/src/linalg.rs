//! The little dense linear algebra the engine needs: Cholesky factorisation,
//! solves and inverses of small symmetric positive-definite matrices
//! (Hessians of 2–4 parameters, Holt–Winters normal equations of m + 1
//! unknowns, reconciliation matrices of a few dozen series). Matrices are flat
//! row-major slices; pulling in nalgebra for this would double the wasm
//! size of the linear algebra without saving any code we would keep.

/// In-place Cholesky: the lower triangle of `a` (n × n, row-major) becomes L
/// with A = L Lᵀ. `false` when A is not positive definite.
pub fn cholesky(a: &mut [f64], n: usize) -> bool {
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return false;
                }
                a[i * n + i] = s.sqrt();
            } else {
                a[i * n + j] = s / a[j * n + j];
            }
        }
    }
    true
}

/// Solve L Lᵀ x = b in place, with L from [`cholesky`].
pub fn cholesky_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Inverse of a symmetric positive-definite matrix; `None` if it is not
/// positive definite (e.g. the optimum is not a proper maximum).
pub fn spd_inverse(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut l: Vec<f64> = m.iter().flat_map(|row| row.iter().copied()).collect();
    if !cholesky(&mut l, n) {
        return None;
    }
    let mut inv = vec![vec![0.0; n]; n];
    let mut col = vec![0.0; n];
    for c in 0..n {
        col.iter_mut().enumerate().for_each(|(i, v)| *v = f64::from(u8::from(i == c)));
        cholesky_solve(&l, n, &mut col);
        for (row, v) in inv.iter_mut().zip(&col) {
            row[c] = *v;
        }
    }
    inv.iter().flatten().all(|v| v.is_finite()).then_some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_hand_computed_matrix() {
        // [[4, 2], [2, 3]]⁻¹ = [[3, −2], [−2, 4]] / 8
        let inv = spd_inverse(&[vec![4.0, 2.0], vec![2.0, 3.0]]).unwrap();
        let want = [[0.375, -0.25], [-0.25, 0.5]];
        for i in 0..2 {
            for j in 0..2 {
                assert!((inv[i][j] - want[i][j]).abs() < 1e-15);
            }
        }
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none(), "indefinite");
    }

    #[test]
    fn solve_recovers_a_known_vector() {
        let a = [6.0, 2.0, 1.0, 2.0, 5.0, 2.0, 1.0, 2.0, 4.0];
        let x = [1.0, -2.0, 3.0];
        let mut b: Vec<f64> = (0..3).map(|i| (0..3).map(|j| a[i * 3 + j] * x[j]).sum()).collect();
        let mut l = a.to_vec();
        assert!(cholesky(&mut l, 3));
        cholesky_solve(&l, 3, &mut b);
        for (got, want) in b.iter().zip(x) {
            assert!((got - want).abs() < 1e-12);
        }
    }
}
