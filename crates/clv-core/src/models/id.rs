//! Which model a result is from: one name for every model the tool fits or
//! scores, with the code the CLI, the exports and the page's data attributes
//! use and the label a person reads. No model is named by a bare string.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Every model a report, a score or a prediction can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelId {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    Pnbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    Mbgnbd,
    /// Gamma–Gompertz/NBD (Bemmaor & Glady 2012).
    Ggomnbd,
    /// BG/BB, discrete time (Fader, Hardie & Shang 2010).
    Bgbb,
    /// Gamma–Gamma spend per purchase (Fader, Hardie & Lee 2005b).
    Gg,
    /// Shifted beta-geometric contract retention (Fader & Hardie 2007).
    Sbg,
    /// The baseline: each customer goes on buying at their past rate.
    Naive,
    /// Gradient-boosted trees trained by the temporal protocol ([`crate::learned`]).
    Gbt,
    /// The mean of the boosted trees' forecast and their base BTYD model's (Pareto/NBD, else BG/NBD or MBG/NBD).
    Ensemble,
    /// The small sequence model: a GRU over weekly histories, simulated forward ([`crate::learned::sequence`]).
    Sequence,
}

impl ModelId {
    /// Every model, in the order the page lists them.
    pub const ALL: [ModelId; 11] = [
        ModelId::Bgnbd,
        ModelId::Pnbd,
        ModelId::Mbgnbd,
        ModelId::Ggomnbd,
        ModelId::Bgbb,
        ModelId::Gg,
        ModelId::Sbg,
        ModelId::Naive,
        ModelId::Gbt,
        ModelId::Ensemble,
        ModelId::Sequence,
    ];

    /// The code of the CLI's `--model`, the exports and file names.
    pub fn code(self) -> &'static str {
        match self {
            ModelId::Bgnbd => "bgnbd",
            ModelId::Pnbd => "pnbd",
            ModelId::Mbgnbd => "mbgnbd",
            ModelId::Ggomnbd => "ggomnbd",
            ModelId::Bgbb => "bgbb",
            ModelId::Gg => "gg",
            ModelId::Sbg => "sbg",
            ModelId::Naive => "naive",
            ModelId::Gbt => "gbt",
            ModelId::Ensemble => "ensemble",
            ModelId::Sequence => "sequence",
        }
    }

    /// The name a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ModelId::Bgnbd => "BG/NBD",
            ModelId::Pnbd => "Pareto/NBD",
            ModelId::Mbgnbd => "MBG/NBD",
            ModelId::Ggomnbd => "Gamma–Gompertz/NBD",
            ModelId::Bgbb => "BG/BB",
            ModelId::Gg => "Gamma–Gamma (spend)",
            ModelId::Sbg => "sBG (contract retention)",
            ModelId::Naive => "Naive (past rate)",
            ModelId::Gbt => "Boosted trees (learned)",
            ModelId::Ensemble => "Ensemble (trees + their BTYD base)",
            ModelId::Sequence => "Sequence model (learned, weekly history)",
        }
    }
}

impl fmt::Display for ModelId {
    /// The code, padded as the format asks (`{:<8}` in a text table).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl FromStr for ModelId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        let alias = match t.as_str() {
            "bg/nbd" => "bgnbd",
            "pareto" | "pareto/nbd" => "pnbd",
            "mbg/nbd" => "mbgnbd",
            "ggompertz/nbd" | "gamma-gompertz" | "gamma-gompertz/nbd" | "gamma–gompertz/nbd" => "ggomnbd",
            "bg/bb" => "bgbb",
            "gamma-gamma" | "gammagamma" => "gg",
            other => other,
        };
        ModelId::ALL.into_iter().find(|m| m.code() == alias).ok_or_else(|| {
            let codes: Vec<&str> = ModelId::ALL.iter().map(|m| m.code()).collect();
            format!("unknown model {s:?}: expected one of {}", codes.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_text_and_json() {
        for m in ModelId::ALL {
            assert_eq!(m.code().parse::<ModelId>(), Ok(m));
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{}\"", m.code()));
            assert_eq!(m.to_string(), m.code());
        }
        assert_eq!(format!("{:<8}|", ModelId::Gbt), "gbt     |");
        assert_eq!("Pareto/NBD".parse::<ModelId>(), Ok(ModelId::Pnbd));
        assert!("bgnbdx".parse::<ModelId>().unwrap_err().contains("expected one of bgnbd, pnbd"));
    }
}
