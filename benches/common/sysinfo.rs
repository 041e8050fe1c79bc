//! What /proc says about the machine and the server process: CPU model and cores, a
//! process's CPU time and resident memory, and how busy the whole machine was.

use std::time::Instant;

/// The machine the numbers come from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    /// Logical CPUs available to us.
    pub cores: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// `cpu MHz` of the first CPU (current clock, not nominal).
    pub cpu_mhz: Option<f64>,
    /// Load average (1 min) when the benchmark started.
    pub load_avg_1m: Option<f64>,
    /// Soft limit of open files the server inherits (one RTP socket per call).
    pub open_files_limit: Option<u64>,
}

impl Machine {
    /// Reads /proc/cpuinfo and /proc/loadavg.
    pub fn read() -> Machine {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        };
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: field("model name").unwrap_or_else(|| "unknown".into()),
            cpu_mhz: field("cpu MHz").and_then(|v| v.parse().ok()),
            load_avg_1m: load_avg(),
            open_files_limit: open_files_limit(),
        }
    }
}

/// The soft RLIMIT_NOFILE of this process (children inherit it).
pub fn open_files_limit() -> Option<u64> {
    // SAFETY: getrlimit writes into the struct we pass.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) };
    (rc == 0).then_some(r.rlim_cur)
}

/// The 1-minute load average.
pub fn load_avg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Clock ticks per second of /proc CPU times.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// CPU seconds (user + system) process `pid` has used, from /proc/<pid>/stat.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// Resident memory of process `pid` in MB (VmRSS of /proc/<pid>/status).
pub fn process_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Seconds the threads of process `pid` have spent runnable but waiting for a CPU (sum of the
/// second field of /proc/<pid>/task/*/schedstat): how much the machine's other work delayed it.
pub fn runqueue_wait_seconds(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Some(ns as f64 / 1e9)
}

/// Busy and total jiffies of all CPUs together (/proc/stat `cpu` line).
fn machine_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4)?;
    Some((total - idle, total))
}

/// A reading at the start of a measuring window.
#[derive(Debug, Clone)]
pub struct CpuMark {
    at: Instant,
    processes: Vec<(u32, Option<f64>)>,
    machine: Option<(u64, u64)>,
}

/// CPU use over a window.
#[derive(Debug, Clone)]
pub struct CpuUse {
    /// Each process's CPU time over wall time, in the order given: 1.0 = one core fully busy.
    pub process_cores: Vec<f64>,
    /// The whole machine's busy share over the window: 1.0 = every core busy.
    pub machine_busy: f64,
}

impl CpuMark {
    /// Reads the counters of processes `pids` and of the machine now.
    pub fn now(pids: &[u32]) -> CpuMark {
        CpuMark {
            at: Instant::now(),
            processes: pids.iter().map(|&p| (p, process_cpu_seconds(p))).collect(),
            machine: machine_jiffies(),
        }
    }

    /// CPU use between this mark and now.
    pub fn since(&self) -> CpuUse {
        let wall = self.at.elapsed().as_secs_f64().max(1e-9);
        let process_cores = self
            .processes
            .iter()
            .map(|&(pid, start)| match (start, process_cpu_seconds(pid)) {
                (Some(a), Some(b)) => (b - a) / wall,
                _ => f64::NAN,
            })
            .collect();
        let machine_busy = match (self.machine, machine_jiffies()) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => (b1 - b0) as f64 / (t1 - t0) as f64,
            _ => f64::NAN,
        };
        CpuUse {
            process_cores,
            machine_busy,
        }
    }
}
