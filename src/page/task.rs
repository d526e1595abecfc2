//! One kind of request as its panel shows it: whether it is being computed
//! (and what the worker says it is doing), its last result, its last error.
//!
//! Each panel has its own [`Task`], so a failure is said next to the control
//! that caused it and clears nothing elsewhere, and a reply is accepted only
//! by the task whose request it answers: a late reply to a request that was
//! superseded (the summary asked for twice in a row) or abandoned (Cancel) is
//! dropped, never shown under newer settings.

use crate::protocol::RequestId;
use leptos::prelude::*;

/// The state behind a [`Task`]; pure, so its transitions are tested natively.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskState<T> {
    /// The request being computed and what the worker last said about it.
    pending: Option<(RequestId, String)>,
    value: Option<T>,
    error: Option<String>,
}

impl<T> Default for TaskState<T> {
    fn default() -> Self {
        TaskState { pending: None, value: None, error: None }
    }
}

impl<T> TaskState<T> {
    /// Request `id` is sent. Its earlier error is over; its earlier value is
    /// kept only when `keep` (figures that are recomputed in place) — else it
    /// would show beside controls that no longer produced it.
    pub fn start(&mut self, id: RequestId, status: String, keep: bool) {
        self.pending = Some((id, status));
        self.error = None;
        if !keep {
            self.value = None;
        }
    }

    /// Whether `id` is the request this task waits for.
    fn awaits(&self, id: RequestId) -> bool {
        self.pending.as_ref().is_some_and(|(p, _)| *p == id)
    }

    /// What the worker is doing for request `id` now.
    pub fn status(&mut self, id: RequestId, status: String) {
        if let Some((_, s)) = self.pending.as_mut().filter(|(p, _)| *p == id) {
            *s = status;
        }
    }

    /// The result of request `id`; dropped (returns false) when this task no
    /// longer waits for it.
    pub fn finish(&mut self, id: RequestId, value: T) -> bool {
        let awaited = self.awaits(id);
        if awaited {
            self.pending = None;
            self.value = Some(value);
        }
        awaited
    }

    /// Request `id` failed: said here; the value it would have replaced stays
    /// cleared or kept as [`TaskState::start`] left it.
    pub fn fail(&mut self, id: RequestId, message: String) {
        if self.awaits(id) {
            self.pending = None;
            self.error = Some(message);
        }
    }

    /// The worker stopped (Cancel, crash): nothing is pending any more.
    pub fn stop(&mut self) {
        self.pending = None;
    }

    /// Forget everything: what it showed depended on something now gone.
    pub fn clear(&mut self) {
        *self = TaskState::default();
    }

    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    pub fn pending(&self) -> Option<&str> {
        self.pending.as_ref().map(|(_, s)| s.as_str())
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// A panel's request state in a signal (see [`TaskState`]).
pub struct Task<T: Send + Sync + 'static>(RwSignal<TaskState<T>>);

impl<T: Send + Sync + 'static> Clone for Task<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Task<T> {}

impl<T: Clone + Send + Sync + 'static> Task<T> {
    pub fn new() -> Task<T> {
        Task(RwSignal::new(TaskState::default()))
    }

    pub fn finish(self, id: RequestId, value: T) -> bool {
        self.0.try_update(|s| s.finish(id, value)).unwrap_or(false)
    }

    pub fn clear(self) {
        self.0.update(TaskState::clear);
    }

    /// The same result again, from a worker that rebuilt it (a replayed
    /// fit): shown as it was, and whatever reads it asks the new worker anew.
    pub fn refresh(self, value: T) {
        self.0.update(|s| s.value = Some(value));
    }

    /// The last result (tracked).
    pub fn get(self) -> Option<T> {
        self.0.with(|s| s.value.clone())
    }

    /// Read the last result without cloning it (tracked).
    pub fn with<R>(self, f: impl FnOnce(Option<&T>) -> R) -> R {
        self.0.with(|s| f(s.value.as_ref()))
    }

    /// The same, not tracked.
    pub fn with_untracked<R>(self, f: impl FnOnce(Option<&T>) -> R) -> R {
        self.0.with_untracked(|s| f(s.value.as_ref()))
    }

    /// Re-run the caller when anything about the task changes.
    pub fn track(self) {
        self.0.track();
    }

    pub fn has_value(self) -> bool {
        self.0.with(|s| s.value.is_some())
    }

    pub fn has_value_untracked(self) -> bool {
        self.0.with_untracked(|s| s.value.is_some())
    }

    /// What the worker is doing for it, while it is pending (tracked).
    pub fn pending(self) -> Option<String> {
        self.0.with(|s| s.pending().map(str::to_string))
    }

    pub fn is_pending(self) -> bool {
        self.0.with(|s| s.pending.is_some())
    }

    pub fn is_pending_untracked(self) -> bool {
        self.0.with_untracked(|s| s.pending.is_some())
    }

    pub fn error(self) -> Option<String> {
        self.0.with(|s| s.error.clone())
    }
}

impl<T: Clone + Send + Sync + 'static> Default for Task<T> {
    fn default() -> Self {
        Task::new()
    }
}

/// What a panel says about a task of any result type: pending and error.
#[derive(Clone, Copy)]
pub struct TaskStatus {
    pub pending: Signal<Option<String>>,
    pub error: Signal<Option<String>>,
}

impl<T: Clone + Send + Sync + 'static> From<Task<T>> for TaskStatus {
    fn from(task: Task<T>) -> TaskStatus {
        TaskStatus { pending: Signal::derive(move || task.pending()), error: Signal::derive(move || task.error()) }
    }
}

/// What the session does to a task without knowing its value type.
pub trait AnyTask {
    fn start(&self, id: RequestId, status: String, keep: bool);
    fn status(&self, id: RequestId, status: String);
    fn fail(&self, id: RequestId, message: String);
    fn stop(&self);
    fn clear(&self);
}

impl<T: Clone + Send + Sync + 'static> AnyTask for Task<T> {
    fn start(&self, id: RequestId, status: String, keep: bool) {
        self.0.update(|s| s.start(id, status, keep));
    }
    fn status(&self, id: RequestId, status: String) {
        self.0.update(|s| s.status(id, status));
    }
    fn fail(&self, id: RequestId, message: String) {
        self.0.update(|s| s.fail(id, message));
    }
    fn stop(&self) {
        self.0.update(TaskState::stop);
    }
    fn clear(&self) {
        Task::clear(*self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_taken_only_by_the_request_it_answers() {
        let mut t = TaskState::<u32>::default();
        t.start(1, "computing".into(), true);
        t.start(2, "computing again".into(), true);
        assert!(!t.finish(1, 10), "a superseded request's reply is dropped");
        assert_eq!((t.value(), t.pending()), (None, Some("computing again")));
        t.status(1, "stale".into());
        assert_eq!(t.pending(), Some("computing again"));
        t.status(2, "halfway".into());
        assert_eq!(t.pending(), Some("halfway"));
        assert!(t.finish(2, 20));
        assert_eq!((t.value(), t.pending()), (Some(&20), None));
        assert!(!t.finish(2, 30), "one final reply per request");
        assert_eq!(t.value(), Some(&20));
    }

    #[test]
    fn a_failure_is_said_and_keeps_or_clears_the_value_as_the_start_said() {
        let mut t = TaskState::<u32>::default();
        t.start(1, String::new(), false);
        assert!(t.finish(1, 7));
        // Recomputed in place: the old figures stay while it runs and after it fails.
        t.start(2, String::new(), true);
        assert_eq!(t.value(), Some(&7));
        t.fail(2, "bad cutoff".into());
        assert_eq!((t.value(), t.error(), t.pending()), (Some(&7), Some("bad cutoff"), None));
        // A new request clears the error; a non-keeping one the value too.
        t.start(3, String::new(), false);
        assert_eq!((t.value(), t.error()), (None, None));
        t.fail(4, "someone else's".into());
        assert_eq!(t.error(), None);
        t.stop();
        assert_eq!(t.pending(), None);
        assert!(!t.finish(3, 1), "after a stop the abandoned request's reply is dropped");
        t.clear();
        assert_eq!(t, TaskState::default());
    }
}
