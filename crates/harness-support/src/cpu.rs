//! CPU time from `/proc`: what a process group has used (a SUT started under `sh -c`
//! and whatever it started), and how busy the machine's cores were. `harness gate`
//! reads both at each block's start and end: the first is the SUT's cost a request, the
//! second tells a block the machine itself bounded from one the SUT did.
//!
//! A third reading, the CPU time of a process and all its descendants, tells how much
//! of the machine's busy time went to processes the gate did not start.
//!
//! Linux only; elsewhere every reading is `None`, and what depends on it says so.

use std::path::Path;

/// Clock ticks a second that `/proc` counts CPU time in. Linux has reported
/// `USER_HZ` = 100 to user space on every architecture since 2.6, whatever the
/// kernel's own tick rate, so it is fixed rather than asked of `sysconf`.
const TICKS_PER_S: f64 = 100.0;

/// User plus system CPU seconds of every live process in group `pgid`, with what their
/// reaped children used. `None` when `/proc` cannot be read or no process is in it.
pub fn group_seconds(pgid: u32) -> Option<f64> {
    let (total, found) = every_process()?
        .filter(|(_, s)| s.pgrp == pgid)
        .fold((0u64, false), |(t, _), (_, s)| (t + s.ticks, true));
    found.then(|| total as f64 / TICKS_PER_S)
}

/// User plus system CPU seconds of process `root` and every live descendant of it, with
/// what their reaped children used. `None` when `/proc` cannot be read or `root` is
/// not in it.
pub fn tree_seconds(root: u32) -> Option<f64> {
    let mut children: std::collections::HashMap<u32, Vec<u32>> = Default::default();
    let mut ticks: std::collections::HashMap<u32, u64> = Default::default();
    for (pid, s) in every_process()? {
        children.entry(s.ppid).or_default().push(pid);
        ticks.insert(pid, s.ticks);
    }
    let mut total = *ticks.get(&root)?;
    let mut todo = children.remove(&root).unwrap_or_default();
    while let Some(pid) = todo.pop() {
        total += ticks.get(&pid).copied().unwrap_or(0);
        todo.extend(children.remove(&pid).unwrap_or_default());
    }
    Some(total as f64 / TICKS_PER_S)
}

/// Every process `/proc` shows, with its stat line; `None` when `/proc` cannot be read.
fn every_process() -> Option<impl Iterator<Item = (u32, Stat)>> {
    Some(std::fs::read_dir("/proc").ok()?.flatten().filter_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        Some((pid, read_stat(&e.path().join("stat"))?))
    }))
}

/// User plus system CPU seconds of process `pid`, with its reaped children's.
pub fn process_seconds(pid: u32) -> Option<f64> {
    let stat = read_stat(&Path::new("/proc").join(pid.to_string()).join("stat"))?;
    Some(stat.ticks as f64 / TICKS_PER_S)
}

/// What one `/proc/PID/stat` line gives: the parent, the process group and its CPU
/// ticks.
struct Stat {
    ppid: u32,
    pgrp: u32,
    ticks: u64,
}

fn read_stat(path: &Path) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// Fields after the command name (which may hold spaces and parentheses, so the
/// split is at its last `)`): state is the 1st, ppid the 2nd, pgrp the 3rd, utime, stime, cutime
/// and cstime the 12th to 15th.
fn parse_stat(line: &str) -> Option<Stat> {
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i)?.parse::<u64>().ok();
    Some(Stat {
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        ticks: num(11)? + num(12)? + num(13)? + num(14)?,
    })
}

/// The machine's CPU time so far, from the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MachineTime {
    /// Ticks spent on anything but idle and I/O wait, over all cores.
    pub busy: u64,
    /// All ticks, over all cores.
    pub total: u64,
}

impl MachineTime {
    /// Reads it now.
    pub fn now() -> Option<MachineTime> {
        parse_machine(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The share of the machine's CPU that was busy between `earlier` and this reading,
    /// 0 to 1.
    pub fn busy_since(&self, earlier: &MachineTime) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total)?;
        let busy = self.busy.checked_sub(earlier.busy)?;
        (total > 0).then(|| busy as f64 / total as f64)
    }

    /// The share of the machine's CPU that was busy between `earlier` and this reading
    /// but not with the `own_seconds` of CPU time some processes used: what the rest of
    /// the machine took, 0 to 1.
    pub fn others_since(&self, earlier: &MachineTime, own_seconds: f64) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total)?;
        let busy = self.busy.checked_sub(earlier.busy)? as f64;
        (total > 0).then(|| ((busy - own_seconds * TICKS_PER_S) / total as f64).max(0.0))
    }
}

/// `cpu  user nice system idle iowait irq softirq steal …`: guest time is already
/// inside user time, so only the first eight count.
fn parse_machine(text: &str) -> Option<MachineTime> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let idle = v.get(3)? + v.get(4)?;
    let total: u64 = v.iter().sum();
    Some(MachineTime {
        busy: total - idle,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_with_spaces_in_its_name_gives_group_and_ticks() {
        let line = "4242 (my (odd) sut) S 1 4240 4240 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 4 0";
        let s = parse_stat(line).expect("parses");
        assert_eq!((s.ppid, s.pgrp), (1, 4240));
        assert_eq!(s.ticks, 250 + 50 + 7 + 3);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn the_machine_line_counts_idle_and_iowait_as_not_busy() {
        let text = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n";
        let t = parse_machine(text).expect("parses");
        assert_eq!((t.busy, t.total), (150, 1000));
        let later = MachineTime {
            busy: 250,
            total: 1200,
        };
        assert_eq!(later.busy_since(&t), Some(0.5));
    }

    #[test]
    fn this_process_group_is_found_and_spins_show_as_cpu_time() {
        let pgid = u32::try_from(unsafe_free_pgrp()).expect("pgrp");
        let before = group_seconds(pgid).expect("our own group is in /proc");
        let t = std::time::Instant::now();
        let mut x = 0u64;
        while t.elapsed() < std::time::Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = group_seconds(pgid).expect("still there");
        // 300 ms of spinning, read at 10 ms ticks; a shared machine may take some.
        assert!(after - before >= 0.1, "{before} → {after}");
    }

    #[test]
    fn a_child_that_spins_counts_in_its_parents_tree_and_not_as_others() {
        let me = std::process::id();
        let (m0, before) = (
            MachineTime::now().expect("stat"),
            tree_seconds(me).expect("self"),
        );
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "end=$(($(date +%s) + 1)); while [ $(date +%s) -lt $end ]; do :; done",
            ])
            .spawn()
            .expect("sh");
        std::thread::sleep(std::time::Duration::from_millis(400));
        let (m1, during) = (
            MachineTime::now().expect("stat"),
            tree_seconds(me).expect("self"),
        );
        let _ = child.kill();
        let _ = child.wait();
        // 400 ms of a child's spinning, read at 10 ms ticks; a shared machine may take some.
        assert!(during - before >= 0.1, "{before} → {during}");
        let others = m1.others_since(&m0, during - before).expect("share");
        let busy = m1.busy_since(&m0).expect("share");
        assert!(others < busy, "others {others}, busy {busy}");
        assert!(tree_seconds(u32::MAX).is_none());
    }

    /// This process's group, read from its own stat line.
    fn unsafe_free_pgrp() -> i64 {
        read_stat(Path::new("/proc/self/stat")).map_or(-1, |s| i64::from(s.pgrp))
    }
}
