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

/// Whether `path` is the derived config (file, FIFO or socket) of a run of ours that still
/// runs: `<root>/<prefix><pid>-<pidns>-<random>/<name>` in a root this user's runs use
/// ([`super::Root::choose`], or its private root), the folder private and ours, the config
/// ours and no symlink, the run's process alive in our PID namespace. Markers of a script
/// naming anything else (`/dev/fd/0`, a file of the user's, a killed run's FIFO) are not
/// trusted (docs/influxctl.md, "Nested exec").
pub(crate) fn live_channel(path: &std::path::Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    #[cfg(target_os = "linux")]
    let known = name == super::FILE_NAME || name == super::SOCKET_NAME;
    #[cfg(not(target_os = "linux"))]
    let known = name == super::FILE_NAME;
    let Some(folder) = path.parent().filter(|_| known) else { return false };
    let (Some(root_dir), Some(folder_name)) =
        (folder.parent(), folder.file_name().and_then(|n| n.to_str()))
    else {
        return false;
    };
    let Ok(root) = super::Root::choose() else { return false };
    let mut roots = vec![(root.dir.clone(), root.prefix)];
    if root.prefix != "exec-" {
        roots.extend(super::home_run_dir().ok().map(|d| (d, "exec-")));
    }
    let run = roots
        .iter()
        .filter(|(dir, _)| dir == root_dir)
        .find_map(|(_, prefix)| folder_name.strip_prefix(prefix).and_then(parse_run_name));
    let Some((pid, ns)) = run else { return false };
    ns == pid_namespace()
        && process_alive(pid)
        && super::check_ours(folder).is_ok()
        && owned_file(path)
}

/// Whether `path` exists, is no symlink, and (on Unix) is ours.
fn owned_file(path: &std::path::Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
    if meta.file_type().is_symlink() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.uid() == nix::unistd::getuid().as_raw()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}
