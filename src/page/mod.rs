//! The page side of the worker boundary (main thread): components, the
//! session that talks to the worker, and what rebuilds a worker that died.

pub mod recovery;
pub mod session;
pub mod task;
pub mod ui;
