//! `exec` in place (Linux): this process *becomes* influxctl with `execve`, no fork. Used only
//! when nothing has to run after influxctl: the derived config is a sealed memfd (it goes when
//! the last descriptor closes, whoever closes it) and PROGRAM is influxctl itself, not a script
//! (docs/influxctl.md, "exec in place").
//!
//! What it guarantees at the `execve`:
//! - **One descriptor more than stdio.** Every descriptor from 3 up is made close-on-exec
//!   (`close_range(3, ~0, CLOSE_RANGE_CLOEXEC)`, or one `fcntl` each from `/proc/self/fd` on a
//!   kernel without it), then the memfd alone is made inheritable again: influxctl gets stdin,
//!   stdout, stderr and the memfd, nothing else (not our audit log, not a D-Bus socket, not a
//!   descriptor our own caller left open).
//! - **The environment** is ours without the secret variables ([`super::child::is_secret_var`]).
//! - **Signals** start clean: `std`'s exec empties the signal mask and puts SIGPIPE back to its
//!   default; `execve` resets every caught signal. A signal our caller set to "ignore" stays
//!   ignored, as for any program it starts.
//! - **Dumpability**: we are not dumpable up to the `execve` ([`crate::harden`]); the kernel
//!   then makes the new image dumpable again, as for any program, and the soft core limit 0 is
//!   inherited.

// `close_range` has no safe wrapper (nix 0.32 lacks it): one `libc::syscall`, with a SAFETY note.
#![allow(unsafe_code)]

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::fcntl::{FcntlArg, FdFlag, fcntl};

use super::child::is_secret_var;

/// Replaces this process with `program` `args`, `keep` its one inherited descriptor beyond
/// stdio. Returns only when that failed, with the reason (the process is then as it was, but
/// every other descriptor is close-on-exec).
pub fn exec_in_place(program: &OsStr, args: &[OsString], keep: BorrowedFd<'_>) -> io::Error {
    if let Err(e) = inherit_only(keep) {
        return e;
    }
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (name, _) in std::env::vars_os() {
        if is_secret_var(&name) {
            cmd.env_remove(&name);
        }
    }
    cmd.exec()
}

/// Makes every descriptor from 3 up close-on-exec, except `keep`.
fn inherit_only(keep: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC closes nothing; it only sets the
    // close-on-exec flag of the descriptors in the range, which no Rust object relies on.
    let done =
        unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) }
            == 0;
    if !done {
        // Linux before 5.11: one by one. The listing's own descriptor is close-on-exec already.
        for fd in open_descriptors()?.into_iter().filter(|&fd| fd > 2) {
            // SAFETY: F_SETFD only sets a flag of whatever `fd` names; a number closed since
            // the listing (the listing's own descriptor) gives EBADF, which is no matter.
            unsafe {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
    }
    fcntl(keep, FcntlArg::F_SETFD(FdFlag::empty()))?;
    Ok(())
}

/// The descriptors open in this process (`/proc/self/fd`).
fn open_descriptors() -> io::Result<Vec<RawFd>> {
    Ok(std::fs::read_dir("/proc/self/fd")?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect())
}
