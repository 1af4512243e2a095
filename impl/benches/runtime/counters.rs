//! What a point cost the process, from `/proc` (Linux; zeros elsewhere): CPU time and voluntary
//! context switches (a thread blocking, to be woken later: the wake-ups a message costs).

/// Clock ticks per second of `/proc/self/stat`'s times (`USER_HZ`, 100 on Linux).
const TICKS_PER_S: f64 = 100.0;

/// A snapshot of the process' counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// User plus system CPU time, in seconds.
    pub cpu_s: f64,
    /// Voluntary context switches of the threads alive now.
    pub switches: u64,
}

impl Counters {
    pub fn now() -> Counters {
        let cpu_s = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| {
                // Fields after the command name (which is in parentheses and may hold spaces).
                let rest = &stat[stat.rfind(')')? + 2..];
                let fields: Vec<&str> = rest.split(' ').collect();
                let utime: f64 = fields.get(11)?.parse().ok()?;
                let stime: f64 = fields.get(12)?.parse().ok()?;
                Some((utime + stime) / TICKS_PER_S)
            })
            .unwrap_or(0.0);
        let switches = std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
            .filter_map(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .sum();
        Counters { cpu_s, switches }
    }

    /// What happened since `before`, per command over `ops` commands: (CPU µs, switches).
    pub fn per_op_since(&self, before: &Counters, ops: u64) -> (f64, f64) {
        let ops = ops.max(1) as f64;
        (
            (self.cpu_s - before.cpu_s) * 1e6 / ops,
            self.switches.saturating_sub(before.switches) as f64 / ops,
        )
    }
}
