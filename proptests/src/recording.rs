//! A recording as the checks read it: the runtime's events plus the few facts about the cluster
//! that a replay needs to rebuild the exact actors the runtime ran (`ClusterConfig::actor`).
//!
//! # File format
//! JSON lines. The first line is a [`Header`] (`{"format": "paxos-recording/1", ...}`); every
//! further line is one [`Event`], exactly as `paxos_impl::record` writes them. A bare event file
//! written by `paxos-impl run --trace FILE` (no header) can be read too, with the cluster
//! described by the caller ([`Recording::read_with`]).

use paxos_impl::record::Event;
use paxos_impl::{ClusterConfig, StorageChoice};
use paxos_model::bug::Bug;
use paxos_model::config::Timing;
use paxos_model::node::Node;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

/// The format tag on a recording's first line.
pub const FORMAT: &str = "paxos-recording/1";

/// Timer durations, in microseconds (the model's `Timing`, serializable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimingUs {
    /// `Timing::election_timeout`, as `[start, end)`.
    pub election_timeout_us: [u64; 2],
    /// `Timing::heartbeat_interval`.
    pub heartbeat_interval_us: u64,
    /// `Timing::client_retry`, as `[start, end)`.
    pub client_retry_us: [u64; 2],
    /// `Timing::lease` (absent in recordings made before lease reads: the default).
    #[serde(default = "lease_us")]
    pub lease_us: u64,
    /// `Timing::lease_grant` (absent in recordings made before lease reads: the default).
    #[serde(default = "lease_grant_us")]
    pub lease_grant_us: u64,
}

fn lease_us() -> u64 {
    us(Timing::default().lease)
}

fn lease_grant_us() -> u64 {
    us(Timing::default().lease_grant)
}

fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

impl From<&Timing> for TimingUs {
    fn from(t: &Timing) -> Self {
        TimingUs {
            election_timeout_us: [us(t.election_timeout.start), us(t.election_timeout.end)],
            heartbeat_interval_us: us(t.heartbeat_interval),
            client_retry_us: [us(t.client_retry.start), us(t.client_retry.end)],
            lease_us: us(t.lease),
            lease_grant_us: us(t.lease_grant),
        }
    }
}

impl From<&TimingUs> for Timing {
    fn from(t: &TimingUs) -> Self {
        let d = Duration::from_micros;
        Timing {
            election_timeout: d(t.election_timeout_us[0])..d(t.election_timeout_us[1]),
            heartbeat_interval: d(t.heartbeat_interval_us),
            client_retry: d(t.client_retry_us[0])..d(t.client_retry_us[1]),
            lease: d(t.lease_us),
            lease_grant: d(t.lease_grant_us),
        }
    }
}

fn one() -> usize {
    1
}

fn no_window() -> usize {
    usize::MAX
}

/// What a replay needs to know about the cluster: everything `ClusterConfig::actor` reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Number of replicas (actors `0..replicas`; clients from `replicas` on).
    pub replicas: usize,
    /// The seed of the run's faults and timer draws (for reading; a replay does not need it).
    pub seed: u64,
    /// `ClusterConfig::prepare_skip`.
    pub prepare_skip: bool,
    /// `ClusterConfig::read_index` (absent in recordings made before it existed, when reads
    /// always went through the log).
    #[serde(default)]
    pub read_index: bool,
    /// `ClusterConfig::batch_commands_max` (absent in recordings made before batching: 1).
    #[serde(default = "one")]
    pub batch_commands_max: usize,
    /// `ClusterConfig::window_slots_max` (absent in recordings made before the window: none).
    #[serde(default = "no_window")]
    pub window_slots_max: usize,
    /// `ClusterConfig::client_window` (absent in recordings made before pipelined sessions: 1).
    #[serde(default = "one")]
    pub client_window: usize,
    /// `ClusterConfig::pre_vote` (absent in recordings made before it existed: off).
    #[serde(default)]
    pub pre_vote: bool,
    /// `ClusterConfig::check_quorum` (absent in recordings made before it existed: off).
    #[serde(default)]
    pub check_quorum: bool,
    /// `ClusterConfig::commit_point` (absent in recordings made before it: off).
    #[serde(default)]
    pub commit_point: bool,
    /// `ClusterConfig::parallel_leader_write` (absent in recordings made before it: off).
    #[serde(default)]
    pub parallel_leader_write: bool,
    /// `ClusterConfig::lease_reads` (absent in recordings made before it: off).
    #[serde(default)]
    pub lease_reads: bool,
    /// `ClusterConfig::bug`.
    pub bug: Option<Bug>,
    /// `ClusterConfig::timing`.
    pub timing: TimingUs,
}

impl RunConfig {
    /// The part of `cfg` a replay needs.
    pub fn of(cfg: &ClusterConfig) -> RunConfig {
        RunConfig {
            replicas: cfg.replicas,
            seed: cfg.seed,
            prepare_skip: cfg.prepare_skip,
            read_index: cfg.read_index,
            batch_commands_max: cfg.batch_commands_max,
            window_slots_max: cfg.window_slots_max,
            client_window: cfg.client_window,
            pre_vote: cfg.pre_vote,
            check_quorum: cfg.check_quorum,
            commit_point: cfg.commit_point,
            parallel_leader_write: cfg.parallel_leader_write,
            lease_reads: cfg.lease_reads,
            bug: cfg.bug,
            timing: TimingUs::from(&cfg.timing),
        }
    }

    /// A cluster configuration with these parameters (memory storage, clean network).
    pub fn cluster_config(&self) -> ClusterConfig {
        let mut cfg = ClusterConfig::new(self.replicas);
        cfg.seed = self.seed;
        cfg.prepare_skip = self.prepare_skip;
        cfg.read_index = self.read_index;
        cfg.batch_commands_max = self.batch_commands_max;
        cfg.window_slots_max = self.window_slots_max;
        cfg.client_window = self.client_window;
        cfg.pre_vote = self.pre_vote;
        cfg.check_quorum = self.check_quorum;
        cfg.commit_point = self.commit_point;
        cfg.parallel_leader_write = self.parallel_leader_write;
        cfg.lease_reads = self.lease_reads;
        cfg.bug = self.bug;
        cfg.timing = Timing::from(&self.timing);
        cfg.storage = StorageChoice::Memory;
        cfg
    }

    /// The exact node the runtime ran as actor `id`.
    pub fn node(&self, id: usize) -> Node {
        self.cluster_config().node(id)
    }

    /// Whether actor `id` is a replica.
    pub fn is_server(&self, id: usize) -> bool {
        id < self.replicas
    }
}

/// The first line of a recording file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The cluster.
    pub config: RunConfig,
    /// What was run, for a human reader (the generated case).
    pub case: String,
}

/// A recorded run of the runtime, ready to be checked.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The cluster.
    pub config: RunConfig,
    /// What was run (free text).
    pub case: String,
    /// Every event, in recorded order.
    pub events: Vec<Event>,
}

/// A recording file that cannot be read.
#[derive(Debug)]
pub struct ReadError {
    /// The file.
    pub path: std::path::PathBuf,
    /// The 1-based line at fault, if one is.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

impl std::error::Error for ReadError {}

impl Recording {
    /// Writes the recording (header line, then one event per line).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut w = BufWriter::new(std::fs::File::create(path)?);
        let header = Header {
            format: FORMAT.into(),
            config: self.config.clone(),
            case: self.case.clone(),
        };
        serde_json::to_writer(&mut w, &header)?;
        w.write_all(b"\n")?;
        for event in &self.events {
            serde_json::to_writer(&mut w, event)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }

    /// Reads a recording written by [`Recording::write`].
    pub fn read(path: &Path) -> Result<Recording, ReadError> {
        Recording::read_with(path, None)
    }

    /// Reads a recording; a file without a header (a bare `--trace` file) takes `config`.
    pub fn read_with(path: &Path, config: Option<RunConfig>) -> Result<Recording, ReadError> {
        let error = |line: Option<usize>, reason: String| ReadError {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| error(None, e.to_string()))?;
        let mut header = None;
        let mut events = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| error(Some(i + 1), e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            if i == 0 {
                if let Ok(h) = serde_json::from_str::<Header>(&line) {
                    if h.format != FORMAT {
                        return Err(error(Some(1), format!("unknown format {:?}", h.format)));
                    }
                    header = Some(h);
                    continue;
                }
            }
            let event = serde_json::from_str(&line)
                .map_err(|e| error(Some(i + 1), format!("not an event: {e}")))?;
            events.push(event);
        }
        let (config, case) = match (header, config) {
            (_, Some(config)) => (config, String::from("(cluster given on the command line)")),
            (Some(h), None) => (h.config, h.case),
            (None, None) => {
                return Err(error(
                    None,
                    "no header line: describe the cluster (e.g. --replicas N)".into(),
                ))
            }
        };
        Ok(Recording {
            config,
            case,
            events,
        })
    }
}
