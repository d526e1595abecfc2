//! What the page needs to survive the worker: the worker's memory (parsed
//! data, users file, fitted models) dies with it — on a panic, an
//! out-of-memory abort or a Cancel — so the page remembers how to rebuild that
//! memory (the `File` handles, the ingest options, the last model request)
//! and which request each worker is running, so a failure can be named next
//! to the action that caused it. Pure bookkeeping, generic over the file
//! handle (`web_sys::Blob` in the page, anything in native tests).

use crate::protocol::{ModelRequest, RequestId};
use clv_core::ingest::IngestOptions;
use std::collections::VecDeque;

/// Where the page shows what happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Load,
    Summary,
    Models,
    Customers,
    Holdout,
    Cohorts,
    Learn,
}

impl Panel {
    /// The element id of the panel's note (`#outage-models`, …).
    pub fn note_id(self) -> &'static str {
        match self {
            Panel::Load => "outage-load",
            Panel::Summary => "outage-summary",
            Panel::Models => "outage-models",
            Panel::Customers => "outage-customers",
            Panel::Holdout => "outage-holdout",
            Panel::Cohorts => "outage-cohorts",
            Panel::Learn => "outage-learn",
        }
    }
}

/// The piece of page state a request fills — one [`crate::page::task::Task`]
/// each — so its reply, its progress and its failure go there and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Load,
    Users,
    Summary,
    SummaryExport,
    Models,
    Table,
    Customer,
    Value,
    Explore,
    PredictionsExport,
    Holdout,
    Cohorts,
    CohortsExport,
    Lesson,
    LessonData,
    /// Scores from a saved learned model (a download).
    LearnedScores,
}

impl Slot {
    /// The panel that shows it.
    pub fn panel(self) -> Panel {
        match self {
            Slot::Load => Panel::Load,
            Slot::Summary | Slot::SummaryExport => Panel::Summary,
            Slot::Models | Slot::Explore => Panel::Models,
            Slot::Table | Slot::Customer | Slot::Value | Slot::PredictionsExport => Panel::Customers,
            Slot::Holdout | Slot::LearnedScores => Panel::Holdout,
            Slot::Users | Slot::Cohorts | Slot::CohortsExport => Panel::Cohorts,
            Slot::Lesson | Slot::LessonData => Panel::Learn,
        }
    }

    /// What else is shown from the worker memory this request builds, and
    /// so is cleared when the request starts again, fails in a crash or is
    /// cancelled: a new file replaces everything; a new fit, the customer
    /// table computed from the old one.
    pub fn dependents(self) -> &'static [Slot] {
        match self {
            Slot::Load => &[
                Slot::Summary,
                Slot::SummaryExport,
                Slot::Models,
                Slot::Table,
                Slot::Customer,
                Slot::Value,
                Slot::Explore,
                Slot::PredictionsExport,
                Slot::Holdout,
                Slot::Cohorts,
                Slot::CohortsExport,
                Slot::LearnedScores,
            ],
            Slot::Models => &[Slot::Table, Slot::Customer, Slot::Value, Slot::Explore, Slot::PredictionsExport],
            _ => &[],
        }
    }
}

/// A request sent to a worker, as much as the page needs to replay it or name it.
#[derive(Debug, Clone, PartialEq)]
pub enum Job<F> {
    Ingest {
        name: String,
        file: F,
        options: IngestOptions,
    },
    /// A summary file in place of transactions, its times in `unit`.
    Summary {
        name: String,
        file: F,
        unit: clv_core::time::TimeUnit,
    },
    Users {
        name: String,
        file: F,
    },
    Fit(ModelRequest),
    Other {
        slot: Slot,
        label: &'static str,
    },
}

impl<F> Job<F> {
    /// The page state its reply fills.
    pub fn slot(&self) -> Slot {
        match self {
            Job::Ingest { .. } | Job::Summary { .. } => Slot::Load,
            Job::Users { .. } => Slot::Users,
            Job::Fit(_) => Slot::Models,
            Job::Other { slot, .. } => *slot,
        }
    }

    pub fn panel(&self) -> Panel {
        self.slot().panel()
    }

    /// What the request was doing, as the start of a sentence.
    pub fn label(&self) -> String {
        match self {
            Job::Ingest { name, .. } | Job::Summary { name, .. } => format!("Reading {name}"),
            Job::Users { name, .. } => format!("Reading the users file {name}"),
            Job::Fit(_) => "Fitting the models".into(),
            Job::Other { label, .. } => (*label).into(),
        }
    }
}

/// A request in flight in one worker; `restore` marks the replays.
#[derive(Debug, Clone, PartialEq)]
pub struct InFlight<F> {
    /// The number its replies carry.
    pub id: RequestId,
    pub job: Job<F>,
    pub restore: bool,
}

/// The inputs that rebuild a worker's memory, in the order they are replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs<F> {
    pub data: Option<Job<F>>,
    pub users: Option<Job<F>>,
    pub models: Option<Job<F>>,
}

impl<F> Default for Inputs<F> {
    fn default() -> Self {
        Inputs { data: None, users: None, models: None }
    }
}

impl<F: Clone> Inputs<F> {
    /// A request is sent: forget what the worker drops when it starts it (a
    /// new file frees the old data and its models; the page clears the models
    /// shown when a fit starts and the users file when another is chosen), so a
    /// request that then fails or crashes is never replayed.
    pub fn started(&mut self, job: &Job<F>) {
        match job {
            Job::Ingest { .. } | Job::Summary { .. } => {
                self.data = None;
                self.models = None;
            }
            Job::Users { .. } => self.users = None,
            Job::Fit(_) => self.models = None,
            Job::Other { .. } => {}
        }
    }

    /// A request succeeded: the worker now holds what it built.
    pub fn succeeded(&mut self, job: &Job<F>) {
        let slot = match job {
            Job::Ingest { .. } | Job::Summary { .. } => &mut self.data,
            Job::Users { .. } => &mut self.users,
            Job::Fit(_) => &mut self.models,
            Job::Other { .. } => return,
        };
        *slot = Some(job.clone());
    }

    /// The requests that rebuild the worker's memory: data, users file, models.
    /// Models without data cannot be rebuilt, so they are left out then.
    pub fn replay(&self) -> Vec<Job<F>> {
        let models = self.data.as_ref().and(self.models.as_ref());
        [self.data.as_ref(), self.users.as_ref(), models].into_iter().flatten().cloned().collect()
    }
}

/// How the page got its worker's memory back after an outage.
#[derive(Debug, Clone, PartialEq)]
pub enum Reload {
    Running,
    Done,
    /// Nothing was loaded, so nothing was lost.
    Nothing,
    /// A replayed request failed (e.g. the file was moved): the message.
    Failed(String),
    /// The replay itself crashed the worker: not retried, to avoid a loop.
    Crashed(String),
}

/// A request lost with its worker, and how the reload went. Shown next to
/// the action that was running.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub panel: Panel,
    /// "Fitting the models failed in the worker: …." or "… was cancelled."
    pub what: String,
    /// Requests queued behind it that died unanswered (their labels).
    pub lost: Vec<String>,
    /// A failure (shown as an error), not a Cancel (shown as a notice).
    pub failed: bool,
    pub reload: Reload,
}

impl Outage {
    /// The worker died with these requests in flight: the oldest was running.
    pub fn crashed<F>(in_flight: &VecDeque<InFlight<F>>, message: &str) -> Outage {
        let job = in_flight.front().map(|j| &j.job);
        let (panel, label) = job.map_or((Panel::Load, "The last request".to_string()), |j| (j.panel(), j.label()));
        Outage {
            panel,
            what: format!("{label} failed in the worker: {}.", message.trim_end_matches('.')),
            lost: lost(in_flight.iter().skip(1)),
            failed: true,
            reload: Reload::Running,
        }
    }

    /// Cancel stopped the worker: the user's oldest request is the one cancelled.
    pub fn cancelled<F>(in_flight: &VecDeque<InFlight<F>>) -> Option<Outage> {
        let mut mine = in_flight.iter().filter(|j| !j.restore);
        let job = &mine.next()?.job;
        Some(Outage {
            panel: job.panel(),
            what: format!("{} was cancelled.", job.label()),
            lost: lost(mine),
            failed: false,
            reload: Reload::Running,
        })
    }

    /// The reload failed after the user moved on from the outage that started it.
    pub fn reload_failed<F>(job: Option<&Job<F>>, reload: Reload) -> Outage {
        let panel = job.map_or(Panel::Load, Job::panel);
        Outage { panel, what: String::new(), lost: Vec::new(), failed: true, reload }
    }

    pub fn text(&self) -> String {
        let lost = match self.lost.as_slice() {
            [] => String::new(),
            labels => format!(" Not done either, ask again: {}.", labels.join("; ")),
        };
        let reload = match &self.reload {
            Reload::Running => "Reloading your data into a fresh worker…".to_string(),
            Reload::Done => "Your data was reloaded; the other results are kept.".to_string(),
            Reload::Nothing => "The worker was restarted; no data is loaded.".to_string(),
            Reload::Failed(why) => {
                format!("Your data could not be reloaded ({why}): load the file again to continue.")
            }
            Reload::Crashed(why) => format!(
                "Reloading your data crashed the worker too ({}), so it was not tried again: load the file again \
                 to continue. The results shown are kept.",
                why.trim_end_matches('.')
            ),
        };
        format!("{}{lost} {reload}", self.what).trim_start().to_string()
    }
}

/// The user's requests among these (replays are the page's own business).
fn lost<'a, F: 'a>(jobs: impl Iterator<Item = &'a InFlight<F>>) -> Vec<String> {
    jobs.filter(|j| !j.restore).map(|j| j.job.label()).collect()
}

/// Words for a worker that died without a panic message (its `error` event):
/// a wasm trap without a panic is what a failed allocation looks like.
pub fn stopped(event_message: &str) -> String {
    if event_message.contains("unreachable") {
        format!("it stopped ({event_message}), most likely out of memory")
    } else {
        format!("it stopped ({event_message})")
    }
}

/// Whether a replayed request is among these (a worker's requests in flight,
/// oldest first). If the worker dies then, the reload itself failed and must
/// not be retried.
pub fn replay_in_flight<F>(in_flight: &VecDeque<InFlight<F>>) -> bool {
    in_flight.iter().any(|j| j.restore)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clv_core::time::{Horizon, TimeUnit};

    fn ingest(name: &str) -> Job<&'static str> {
        Job::Ingest { name: name.into(), file: "blob", options: IngestOptions::default() }
    }

    fn fit() -> Job<&'static str> {
        Job::Fit(ModelRequest {
            cutoff: Some("1997-09-30".parse().unwrap()),
            horizon: Horizon::days(90).unwrap(),
            unit: TimeUnit::Week,
            models: Vec::new(),
            penalizer: 0.0,
            annual_discount_rate: 0.1,
            discounting: Default::default(),
            cards: Vec::new(),
        })
    }

    fn users() -> Job<&'static str> {
        Job::Users { name: "users.csv".into(), file: "users" }
    }

    #[test]
    fn replays_data_then_users_then_models_after_they_succeeded() {
        let mut inputs = Inputs::default();
        for job in [ingest("a.csv"), users(), fit()] {
            inputs.started(&job);
            assert!(inputs.replay().iter().all(|j| *j != job), "replayed before it succeeded");
            inputs.succeeded(&job);
        }
        assert_eq!(inputs.replay(), vec![ingest("a.csv"), users(), fit()]);
    }

    #[test]
    fn a_request_that_never_succeeded_is_never_replayed() {
        let mut inputs = Inputs::default();
        for job in [ingest("a.csv"), users(), fit()] {
            inputs.started(&job);
            inputs.succeeded(&job);
        }
        // A new file crashes while being read: the old data and its models were
        // freed by the worker when it started; the users file stays.
        inputs.started(&ingest("b.csv"));
        assert_eq!(inputs.replay(), vec![users()]);
        // A fit crashes: the data and users file come back, not the models.
        let mut inputs = Inputs::default();
        for job in [ingest("a.csv"), fit()] {
            inputs.started(&job);
            inputs.succeeded(&job);
        }
        inputs.started(&fit());
        assert_eq!(inputs.replay(), vec![ingest("a.csv")]);
    }

    /// A summary file is the data as transactions are: it replaces them, and the fit made on it is
    /// replayed after it.
    #[test]
    fn a_summary_file_is_the_data_and_replaces_the_transactions() {
        let summary = Job::Summary { name: "rfm.csv".into(), file: "blob", unit: TimeUnit::Week };
        assert_eq!((summary.slot(), summary.label()), (Slot::Load, "Reading rfm.csv".to_string()));
        let mut inputs = Inputs::default();
        for job in [ingest("a.csv"), fit(), summary.clone(), fit()] {
            inputs.started(&job);
            inputs.succeeded(&job);
        }
        assert_eq!(inputs.replay(), vec![summary.clone(), fit()]);
        inputs.started(&ingest("b.csv"));
        assert!(inputs.replay().is_empty(), "a new file frees the summary and its models");
    }

    fn running(jobs: &[(Job<&'static str>, bool)]) -> VecDeque<InFlight<&'static str>> {
        let ids = 1..;
        jobs.iter().zip(ids).map(|((job, restore), id)| InFlight { id, job: job.clone(), restore: *restore }).collect()
    }

    #[test]
    fn the_crash_is_named_next_to_the_action_that_was_running() {
        let o = Outage::crashed(&running(&[(fit(), false)]), "panicked at src/x.rs:1:1:\ncapacity overflow");
        assert_eq!(o.panel, Panel::Models);
        assert_eq!(o.panel.note_id(), "outage-models");
        assert!(o.text().starts_with("Fitting the models failed in the worker: panicked at"), "{}", o.text());
        assert!(o.text().ends_with("capacity overflow. Reloading your data into a fresh worker…"), "{}", o.text());
        let done = Outage { reload: Reload::Done, ..o };
        assert!(done.text().ends_with("Your data was reloaded; the other results are kept."));
        let load = Outage::crashed(&running(&[(ingest("shop.csv"), false)]), "boom.");
        assert_eq!((load.panel, load.what.as_str()), (Panel::Load, "Reading shop.csv failed in the worker: boom."));
    }

    #[test]
    fn requests_queued_behind_the_lost_one_are_named_not_dropped() {
        let summary = Job::Other { slot: Slot::Summary, label: "Computing the summary" };
        let o = Outage::crashed(&running(&[(fit(), false), (summary.clone(), false)]), "x");
        assert_eq!(
            o.text(),
            "Fitting the models failed in the worker: x. Not done either, ask again: Computing the \
                              summary. Reloading your data into a fresh worker…"
        );
        // Cancel during a reload: the user's own job is the one cancelled.
        let o = Outage::cancelled(&running(&[(ingest("a.csv"), true), (fit(), false), (summary, false)])).unwrap();
        assert!(!o.failed);
        assert_eq!(o.panel, Panel::Models);
        assert_eq!(
            (o.what.as_str(), o.lost.as_slice()),
            ("Fitting the models was cancelled.", &["Computing the summary".to_string()][..])
        );
        assert_eq!(Outage::cancelled(&running(&[(ingest("a.csv"), true)])), None);
    }

    #[test]
    fn a_trap_without_a_panic_is_called_out_of_memory_and_nothing_else_is() {
        assert_eq!(
            stopped("Uncaught RuntimeError: unreachable"),
            "it stopped (Uncaught RuntimeError: unreachable), most likely out of memory"
        );
        assert_eq!(
            stopped("Uncaught RangeError: Maximum call stack size exceeded"),
            "it stopped (Uncaught RangeError: Maximum call stack size exceeded)"
        );
    }

    #[test]
    fn a_crash_while_reloading_is_not_retried() {
        let mut in_flight = VecDeque::from([InFlight { id: 2, job: fit(), restore: false }]);
        assert!(!replay_in_flight(&in_flight));
        in_flight.push_front(InFlight { id: 1, job: ingest("a.csv"), restore: true });
        assert!(replay_in_flight(&in_flight));
        let o = Outage { reload: Reload::Crashed("unreachable".into()), ..Outage::crashed(&in_flight, "x") };
        assert!(o.text().contains("crashed the worker too (unreachable), so it was not tried again"), "{}", o.text());
    }
}
