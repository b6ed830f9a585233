//! Process hardening (docs/spec.md §10.8), applied first thing in every command: the process is not
//! dumpable (`PR_SET_DUMPABLE` 0 on Linux: no core file, no same-user `ptrace` or
//! `/proc/PID/mem` read) and its core size limit is 0 (`RLIMIT_CORE`, every Unix). Secret
//! buffers are `mlock`ed where they are made ([`crate::secret`]).
//!
//! Children: the kernel makes an exec'ed child dumpable again (`execve` resets the flag), and
//! the child inherits the soft core limit 0. We keep it that way on purpose: influxctl holds
//! the token for its whole life, so a core of it would hold the token too. The hard limit is
//! left as it was, so a child that wants core files may raise its own soft limit
//! (`ulimit -c unlimited` in a script).

/// Makes this process undumpable and sets its soft core limit to 0. Never fails: what cannot
/// be set is remembered and reported by [`report`] once `-v` is known.
pub fn apply() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        remember(format!("cannot make the process undumpable: {e}"));
    }
    #[cfg(unix)]
    {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        let set = getrlimit(Resource::RLIMIT_CORE)
            .and_then(|(_, hard)| setrlimit(Resource::RLIMIT_CORE, 0, hard));
        if let Err(e) = set {
            remember(format!("cannot set the core size limit to 0: {e}"));
        }
    }
}

static FAILED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[cfg(unix)]
fn remember(msg: String) {
    FAILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(msg);
}

/// Prints (with `-v`) what [`apply`] could not do.
pub fn report() {
    let failed =
        std::mem::take(&mut *FAILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    for msg in failed {
        crate::ui::verbose(msg);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn apply_makes_process_undumpable_with_core_limit_0() {
        apply();
        assert!(!nix::sys::prctl::get_dumpable().unwrap());
        let (soft, _) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE).unwrap();
        assert_eq!(soft, 0);
    }
}
