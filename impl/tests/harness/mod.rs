//! The cluster fault harness: processes, a nemesis, clients, a history and two checkers.
#![allow(dead_code)]

pub mod checkers;
pub mod history;
pub mod nemesis;
pub mod procs;
pub mod workload;
