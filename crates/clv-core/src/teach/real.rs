//! The lesson's last step: the models on the two data sets they were published with, fitted live.
//!
//! - **CDNOW** (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): 23,570 people
//!   who first bought CDs in the first quarter of 1997, watched to 1998-06-30. BG/NBD is fitted in
//!   weeks on the 39 weeks to 1997-09-30, as in the paper, and the tracking plot runs on through
//!   the holdout — the paper's Figure 2.
//! - **Donations** (Fader, Hardie & Shang 2010): 11,104 first-time donors of 1995, whether each gave
//!   in each of the next six years, as the paper's 22 weighted patterns (bundled, 256 bytes). BG/BB,
//!   the discrete-time model: α 1.204, β 0.750, γ 0.657, δ 2.783.

use serde::{Deserialize, Serialize};

use super::TeachError;
use crate::features::{parse_summary, Cutoff, RfmSummary};
use crate::ingest::Transactions;
use crate::models::{BgBb, BgNbd, FitReport, Likelihood, Rfm};
use crate::pipeline::{frequency_fit, Customers, FrequencyBin};
use crate::time::{Day, TimeUnit};
use crate::tracking::TrackingFrame;

/// The donations patterns `frequency, recency, periods, weights` (Fader, Hardie & Shang 2010, Table 1).
const DONATIONS: &str = include_str!("../../../../tests/data/donations.csv");

/// CDNOW's calibration end and the end of its data (Fader, Hardie & Lee 2005).
pub const CDNOW_CALIBRATION_END: &str = "1997-09-30";
/// The last day of CDNOW's data.
pub const CDNOW_END: &str = "1998-06-30";

/// Which published data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// CDNOW's music buyers (transactions: the page's demo file).
    Cdnow,
    /// The charity's donors (bundled patterns).
    Donations,
}

/// One week of CDNOW's tracking plot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RealTrackingWeek {
    /// 1-based week since the first customer's first purchase.
    pub week: usize,
    /// Repeat purchase days made so far.
    pub actual: f64,
    /// What the fitted model expects of the same customers by then.
    pub expected: f64,
    /// Whether the week ends after the calibration period.
    pub holdout: bool,
}

/// A published data set fitted: the report, and the pictures that judge it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealFit {
    /// Which data set.
    pub dataset: Dataset,
    /// Customers fitted on.
    pub customers: f64,
    /// The fit (BG/NBD for CDNOW, BG/BB for donations): estimates, 95% ranges, convergence.
    pub fit: FitReport,
    /// CDNOW only: cumulative repeat purchases week by week, calibration then holdout.
    pub tracking: Vec<RealTrackingWeek>,
    /// Customers by repeat purchases in the calibration period (donations: repeat donations in six
    /// years), actual and expected.
    pub frequency: Vec<FrequencyBin>,
}

fn fit_one<M: Likelihood<Row = Rfm>>(customers: &Customers) -> Result<(FitReport, M), TeachError> {
    let (report, model) = super::fit_alone::<M>(customers);
    let model = model.map_err(TeachError::Data)?;
    Ok((report.expect("a converged fit comes with its report"), model))
}

/// BG/NBD on CDNOW's transactions, in weeks, calibrated to 1997-09-30; tracked to 1998-06-30.
pub fn cdnow(tx: &Transactions) -> Result<RealFit, TeachError> {
    let day = |s: &str| s.parse::<Day>().map_err(|e| TeachError::Data(e.to_string()));
    let cutoff = Cutoff::checked(day(CDNOW_CALIBRATION_END)?, tx, "the calibration end")
        .map_err(|e| TeachError::Data(e.to_string()))?;
    let customers = Customers::from_summary(&RfmSummary::build(tx, cutoff, TimeUnit::Week), tx);
    let (fit, model) = fit_one::<BgNbd>(&customers)?;
    let frame = TrackingFrame::build(tx, cutoff, day(CDNOW_END)?.number(), TimeUnit::Week);
    let expected = frame.expected_cumulative(&model);
    let tracking = frame
        .periods
        .iter()
        .zip(expected)
        .map(|(p, expected)| RealTrackingWeek {
            week: p.period,
            actual: p.cumulative_actual,
            expected,
            holdout: p.holdout,
        })
        .collect();
    Ok(RealFit {
        dataset: Dataset::Cdnow,
        customers: customers.total(),
        frequency: frequency_fit(&model, &customers, 7),
        fit,
        tracking,
    })
}

/// BG/BB on the donations patterns.
pub fn donations() -> Result<RealFit, TeachError> {
    let summary = parse_summary(DONATIONS.as_bytes()).map_err(|e| TeachError::Data(e.to_string()))?;
    let customers = Customers::from_input(&summary);
    let (fit, model) = fit_one::<BgBb>(&customers)?;
    Ok(RealFit {
        dataset: Dataset::Donations,
        customers: customers.total(),
        frequency: frequency_fit(&model, &customers, 6),
        fit,
        tracking: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{ingest, IngestOptions};

    /// Fader, Hardie & Shang (2010): α 1.204, β 0.750, γ 0.657, δ 2.783, ln L −33,225.6; and the
    /// expected pattern counts add up to the donors.
    #[test]
    fn donations_give_the_published_bgbb() {
        let f = donations().unwrap();
        assert_eq!(f.customers, 11_104.0);
        assert!(f.fit.convergence.converged);
        for (p, want) in f.fit.params.iter().zip([1.204, 0.750, 0.657, 2.783]) {
            assert!((p.value - want).abs() < 0.005 * want, "{} {} vs {want}", p.name, p.value);
        }
        assert!((f.fit.log_likelihood + 33_225.6).abs() < 0.1, "{}", f.fit.log_likelihood);
        let (actual, expected): (f64, f64) =
            f.frequency.iter().map(|b| (b.actual, b.expected)).fold((0.0, 0.0), |s, b| (s.0 + b.0, s.1 + b.1));
        assert_eq!(actual, 11_104.0);
        assert!((expected - 11_104.0).abs() < 1e-6, "{expected}");
        assert!(f.tracking.is_empty());
    }

    /// The sample of CDNOW committed for tests (2,357 customers, one in ten): BG/NBD converges, the
    /// tracking plot covers 1997-01-01 to 1998-06-30 week by week with the holdout after week 39, and
    /// at the calibration end the model's cumulative repeat purchases equal the data's within a few
    /// percent (FHL 2005, Figure 2).
    #[test]
    fn cdnow_tracks_its_calibration_and_holdout() {
        let file =
            std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/cdnow_sample_transactions.csv"))
                .unwrap();
        let tx = ingest(file, &IngestOptions::default(), &mut |_| {}).unwrap().transactions;
        let f = cdnow(&tx).unwrap();
        assert_eq!(f.customers, 2357.0);
        assert!(f.fit.convergence.converged);
        assert_eq!(f.tracking.len(), 78);
        let calibration = f.tracking.iter().filter(|w| !w.holdout).count();
        assert_eq!(calibration, 39);
        let end = &f.tracking[calibration - 1];
        assert!((end.expected / end.actual - 1.0).abs() < 0.05, "{end:?}");
        assert!(f.tracking.windows(2).all(|w| w[1].actual >= w[0].actual && w[1].expected >= w[0].expected));
    }
}
