//! The nemesis: one fault at a time, drawn from a seed, on a [`Processes`] cluster, then
//! repaired before the next one (so a majority is always back between two faults).
//!
//! - `kill -9` of the leader (found by asking every replica's status) or of a random replica,
//!   restarted from its data directory after a while;
//! - a partition: the leader (or a random replica) cut off from the two others, then healed;
//! - a pause: SIGSTOP of the leader (or a random replica), then SIGCONT.

use super::procs::{Processes, State};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::Range;
use std::time::Duration;

/// How long the leader may take to show up before a kill picks a random replica instead.
pub const LEADER_WAIT: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub leader_kills: usize,
    pub random_kills: usize,
    pub partitions: usize,
    pub pauses: usize,
    /// Faults aimed at the leader when none could be found (aimed at a random replica).
    pub no_leader: usize,
}

impl Counts {
    pub fn kills(&self) -> usize {
        self.leader_kills + self.random_kills
    }
}

/// How long faults last and how long the cluster rests between two.
#[derive(Clone, Debug)]
pub struct Timing {
    pub down: Range<Duration>,
    pub partition: Range<Duration>,
    pub pause: Range<Duration>,
    pub rest: Range<Duration>,
}

impl Default for Timing {
    fn default() -> Timing {
        let ms = Duration::from_millis;
        Timing {
            down: ms(100)..ms(600),
            partition: ms(300)..ms(1000),
            pause: ms(200)..ms(800),
            rest: ms(100)..ms(400),
        }
    }
}

pub struct Nemesis {
    rng: ChaCha8Rng,
    pub counts: Counts,
    pub timing: Timing,
}

impl Nemesis {
    pub fn new(seed: u64) -> Nemesis {
        Nemesis {
            rng: ChaCha8Rng::seed_from_u64(seed),
            counts: Counts::default(),
            timing: Timing::default(),
        }
    }

    fn draw(&mut self, range: &Range<Duration>) -> Duration {
        self.rng.random_range(range.clone())
    }

    /// The leader, or (counted) a random running replica if none shows up.
    fn target(&mut self, procs: &Processes, leader: bool) -> (usize, bool) {
        if leader {
            if let Some(l) = procs.leader(LEADER_WAIT) {
                return (l, true);
            }
            self.counts.no_leader += 1;
        }
        let running: Vec<usize> = (0..procs.len())
            .filter(|id| procs.state(*id) == State::Running)
            .collect();
        (running[self.rng.random_range(0..running.len())], false)
    }

    /// One fault, held, repaired; then a rest.
    pub fn one_fault(&mut self, procs: &mut Processes) {
        let at_leader = self.rng.random_bool(2.0 / 3.0);
        match self.rng.random_range(0..100) {
            0..40 => self.kill(procs, true),
            40..55 => self.kill(procs, false),
            55..85 => {
                let (id, _) = self.target(procs, at_leader);
                procs.partition(&[id]);
                self.counts.partitions += 1;
                let hold = self.draw(&self.timing.partition.clone());
                std::thread::sleep(hold);
                procs.heal();
            }
            _ => {
                let (id, _) = self.target(procs, at_leader);
                procs.pause(id);
                self.counts.pauses += 1;
                let hold = self.draw(&self.timing.pause.clone());
                std::thread::sleep(hold);
                procs.resume(id);
            }
        }
        let rest = self.draw(&self.timing.rest.clone());
        std::thread::sleep(rest);
    }

    /// `kill -9` of the leader (or a random replica), restarted after a drawn downtime.
    pub fn kill(&mut self, procs: &mut Processes, leader: bool) {
        let (id, was_leader) = self.target(procs, leader);
        procs.kill(id);
        if was_leader {
            self.counts.leader_kills += 1;
        } else {
            self.counts.random_kills += 1;
        }
        let down = self.draw(&self.timing.down.clone());
        std::thread::sleep(down);
        procs.restart(id);
    }
}
