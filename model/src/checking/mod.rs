//! Model checking: the configuration of a run, the checked model with its ghost record, the
//! properties, and the runner behind `paxos-model check`.

pub mod bugs;
pub mod clock;
pub mod config;
pub mod ghost;
pub mod model;
pub mod properties;
pub mod reduction;
pub mod run;
pub mod suite;
pub mod system;

pub use bugs::{catalogue, KnownBug};
pub use config::{CheckConfig, ConfigError, NetworkKind};
pub use run::{check, CheckerKind, Outcome, PropertyOutcome, RunOptions, Status, Verdict};
pub use system::{acting, Action, PaxosModel, State};
