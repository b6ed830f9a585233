//! Whose a leftover run folder is: the PID and PID namespace in its name, and whether that
//! process still runs (the sweep of [`super::Root::sweep`] removes only folders of gone runs).

/// `<pid>-<pidns>-<random>` → (pid, pidns); `None` for any other name (older versions wrote
/// `<pid>-<random>`, with no namespace: never swept).
pub(super) fn parse_run_name(rest: &str) -> Option<(u32, String)> {
    let mut parts = rest.splitn(3, '-');
    let pid = parts.next()?.parse::<u32>().ok()?;
    let ns = parts.next()?;
    let random = parts.next()?;
    if ns.is_empty() || !ns.bytes().all(|b| b.is_ascii_digit()) || random.is_empty() {
        return None;
    }
    Some((pid, ns.to_owned()))
}

/// The inode number of our PID namespace (`/proc/self/ns/pid` → `pid:[4026531836]`), or `0`
/// where there is none to read (off Linux, or /proc not mounted).
pub(super) fn pid_namespace() -> String {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|l| {
            let l = l.to_string_lossy().into_owned();
            l.strip_prefix("pid:[").and_then(|r| r.strip_suffix(']')).map(str::to_owned)
        })
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| "0".to_owned())
}

/// Whether process `pid` exists (a process of another user counts as alive).
#[cfg(unix)]
pub(super) fn process_alive(pid: u32) -> bool {
    use nix::errno::Errno;
    use nix::unistd::Pid;
    let Ok(raw) = i32::try_from(pid) else { return false };
    !matches!(nix::sys::signal::kill(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}

/// Off Unix, liveness is not checked, so nothing is swept.
#[cfg(not(unix))]
pub(super) fn process_alive(_pid: u32) -> bool {
    true
}
