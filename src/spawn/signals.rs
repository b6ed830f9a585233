//! Signal forwarding without a thread (Unix): while a [`Forwarder`] lives, SIGINT, SIGTERM,
//! SIGHUP, SIGQUIT and SIGCHLD are *blocked* in the thread that installed it, so none of them
//! can end us; [`Forwarder::wait`] takes them one at a time with `sigwait`: SIGCHLD means "look
//! whether the child is gone" (and reap it), any other goes on to the child with `kill`.
//!
//! Three details carry the guarantee:
//! - **Other threads.** A process-directed signal goes to any thread that does not block it,
//!   and threads started before the forwarder (the keyring store's D-Bus executor) do not.
//!   So the five signals also get a handler, [`relay`], which hands the signal on to the
//!   waiting thread with `pthread_kill`: it never runs the default action (the end of us), and
//!   the waiting thread's `sigwait` sees it. Threads started while the forwarder lives inherit
//!   the blocked mask.
//! - **SIGCHLD is caught, not left at its default.** Some systems (macOS) discard a blocked
//!   signal whose default action is to ignore it; with a handler it stays pending. A SIGCHLD
//!   that our parent set to "ignore" (which makes the kernel reap children itself, so that no
//!   exit status could be read) is caught the same way for the forwarder's life.
//! - **The child starts clean.** `std::process::Command`'s `posix_spawn` hands the child the
//!   signal mask of the spawning thread (it sets no `POSIX_SPAWN_SETSIGMASK`): spawned with our
//!   signals blocked, the child could not be interrupted. So the five are unblocked for the
//!   `spawn` call only; a signal that lands meanwhile runs [`relay`] on this thread, which
//!   notes it ([`CAUGHT`]), and it goes to the child as soon as `spawn` returns. `execve` resets
//!   every caught signal to its default action; so the child can be interrupted like any
//!   program. That holds for a signal our own parent set to "ignore"
//!   too (SIGINT and SIGQUIT for a background job of a script, SIGHUP under `nohup`): it is
//!   caught and forwarded, and the child starts with its default action, as before this
//!   forwarder had no thread.
//!
//! Only one forwarder lives in a process at a time (a second one waits for the first): the
//! relay has one thread to hand signals to.

// Installing a handler is `unsafe` (as are the few libc calls nix does not wrap); each use has
// a SAFETY note.
#![allow(unsafe_code)]

use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, kill, pthread_sigmask, sigaction,
};
use nix::unistd::Pid;

use super::child::Spawned;
use crate::error::{Error, Result};

/// The signals sent on to the child.
const FORWARDED: [Signal; 4] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT];

/// The one thread a forwarder waits in (a `pthread_t`: an integer on Linux and the BSDs, a
/// pointer on macOS; either fits in a `usize`), and whether [`relay`] may use it.
static WAITER: AtomicUsize = AtomicUsize::new(0);
static ARMED: AtomicBool = AtomicBool::new(false);
/// The waiting thread has the signals unblocked for `spawn`.
static SPAWNING: AtomicBool = AtomicBool::new(false);
/// Signals (bit N for signal N) that [`relay`] took on the waiting thread during `spawn`.
static CAUGHT: AtomicU64 = AtomicU64::new(0);
/// Our process id: a forked child (between `fork` and `execve`) runs our handler too.
static OWNER: AtomicI32 = AtomicI32::new(0);
/// Held by the live forwarder.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

std::thread_local! {
    /// This thread holds a forwarder: a second one here would wait for itself.
    static HOLDS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The handler of the five signals, for when one is delivered to a thread that does not block
/// it: hands it on to the waiting thread, where it stays pending until `sigwait` takes it.
extern "C" fn relay(sig: libc::c_int) {
    // SAFETY: getpid, signal and raise are async-signal-safe.
    if unsafe { libc::getpid() } != OWNER.load(Ordering::SeqCst) {
        // A child forked by `Command` that has not yet run `execve`: the signal was meant for
        // it, so it gets the default action, as it would a moment later.
        // SAFETY: both async-signal-safe; `sig` is the signal being handled.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
        return;
    }
    if ARMED.load(Ordering::SeqCst) {
        let waiter = WAITER.load(Ordering::SeqCst) as libc::pthread_t;
        // SAFETY: pthread_self reads the thread pointer (on glibc, musl and macOS alike).
        if SPAWNING.load(Ordering::SeqCst)
            && unsafe { libc::pthread_self() } as usize == waiter as usize
        {
            // On the waiting thread while it spawns (the signals unblocked): noted, and sent on
            // once the child exists. Signal numbers are below 64.
            CAUGHT.fetch_or(1 << (sig & 63), Ordering::SeqCst);
            return;
        }
        // SAFETY: pthread_kill is async-signal-safe; `waiter` is the live thread that holds
        // the forwarder (ARMED is cleared, and the handlers removed, before it lets go).
        unsafe {
            libc::pthread_kill(waiter, sig);
        }
    }
}

/// Catches SIGINT, SIGTERM, SIGHUP and SIGQUIT (handled as SIGTERM is: no core dump of ours,
/// the derived config removed) and sends them on to the child; no thread of its own.
pub struct Forwarder {
    /// The signals blocked and taken with `sigwait`: the forwarded ones and SIGCHLD.
    waited: SigSet,
    /// The thread's mask before.
    old_mask: SigSet,
    /// The dispositions replaced, to put back.
    old_actions: Vec<(Signal, SigAction)>,
    _one: MutexGuard<'static, ()>,
}

impl Forwarder {
    /// Starts catching the signals: from here on none of them ends us.
    pub fn install() -> Result<Forwarder> {
        if HOLDS.with(std::cell::Cell::get) {
            return Err(Error::Other("a signal forwarder is already installed here".into()));
        }
        let one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all = SigSet::from_iter(FORWARDED);
        all.add(Signal::SIGCHLD);
        let mut old_mask = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&all), Some(&mut old_mask))
            .map_err(|e| Error::Other(format!("cannot block signals: {e}")))?;
        HOLDS.with(|h| h.set(true));
        let mut forwarder =
            Forwarder { waited: all, old_mask, old_actions: Vec::with_capacity(5), _one: one };
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        WAITER.store(me as usize, Ordering::SeqCst);
        OWNER.store(std::process::id().cast_signed(), Ordering::SeqCst);
        ARMED.store(true, Ordering::SeqCst);
        let caught = SigAction::new(
            SigHandler::Handler(relay),
            SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
            SigSet::empty(),
        );
        for sig in FORWARDED.into_iter().chain([Signal::SIGCHLD]) {
            // SAFETY: `relay` only reads atomics and calls pthread_kill, both async-signal-safe.
            let old = unsafe { sigaction(sig, &caught) }
                .map_err(|e| Error::Other(format!("cannot catch {sig}: {e}")))?;
            forwarder.old_actions.push((sig, old));
        }
        Ok(forwarder)
    }

    /// Spawns `cmd` unless a signal came first (then the child is not started). A signal that
    /// comes once `spawn` has begun stays pending and goes to the child in [`Forwarder::wait`].
    pub fn spawn(&self, cmd: &mut Command) -> std::io::Result<Spawned> {
        if let Some(sig) = self.take_pending_forwarded() {
            return Ok(Spawned::Interrupted(sig as i32));
        }
        // The child's mask is this thread's at the call: unblocked for it (see the module doc).
        CAUGHT.store(0, Ordering::SeqCst);
        SPAWNING.store(true, Ordering::SeqCst);
        let unblocked = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&self.waited), None);
        let spawned = unblocked.map_err(std::io::Error::from).and_then(|()| cmd.spawn());
        let blocked = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&self.waited), None);
        SPAWNING.store(false, Ordering::SeqCst);
        // Every signal that ran the handler here did so before the mask was back: all noted.
        let caught = CAUGHT.swap(0, Ordering::SeqCst);
        let child = spawned?;
        if let Err(e) = blocked {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
            return Err(e.into());
        }
        let pid = child_pid(&child)?;
        for sig in FORWARDED {
            if caught & (1 << (sig as i32)) != 0 {
                let _ = kill(pid, sig);
            }
        }
        Ok(Spawned::Child(child))
    }

    /// Waits for the child, sending it each forwarded signal that comes meanwhile. The child is
    /// reaped (`try_wait`) only when it is gone, and nothing is sent after that, so a signal
    /// never reaches a process that reused its id.
    pub fn wait(&self, child: &mut Child) -> std::io::Result<ExitStatus> {
        let pid = child_pid(child)?;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            // A SIGCHLD from the exit between try_wait and here is pending: no wake-up lost.
            let sig = self.waited.wait().map_err(std::io::Error::from)?;
            if sig != Signal::SIGCHLD {
                // The child may have exited since: it is a zombie, its id still its own.
                let _ = kill(pid, sig);
            }
        }
    }

    /// A forwarded signal already pending for us, taken.
    fn take_pending_forwarded(&self) -> Option<Signal> {
        let mut raw = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigpending fills the set it is given.
        if unsafe { libc::sigpending(raw.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: initialized by the successful call above.
        let raw = unsafe { raw.assume_init() };
        let sig = FORWARDED.into_iter().find(|s| {
            // SAFETY: `raw` is an initialized set and `s` a valid signal number.
            (unsafe { libc::sigismember(&raw, *s as libc::c_int) }) == 1
        })?;
        // Pending and blocked: sigwait returns at once.
        SigSet::from(sig).wait().ok()
    }
}

/// The child's id as a `Pid` (pid_t is an i32 on every Unix; a child id always fits).
fn child_pid(child: &Child) -> std::io::Result<Pid> {
    i32::try_from(child.id()).map(Pid::from_raw).map_err(std::io::Error::other)
}

impl Drop for Forwarder {
    /// Stops forwarding: the old dispositions back, a signal that came after the child was
    /// reaped taken and dropped (as the child it was meant for is gone), the old mask back.
    fn drop(&mut self) {
        for (sig, old) in self.old_actions.drain(..).rev() {
            // SAFETY: puts back the disposition that was in place before `install`.
            let _ = unsafe { sigaction(sig, &old) };
        }
        ARMED.store(false, Ordering::SeqCst);
        while let Some(sig) = self.take_pending_forwarded() {
            crate::ui::verbose(format!("signal {sig} came after the program ended; dropped"));
        }
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.old_mask), None);
        HOLDS.with(|h| h.set(false));
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use nix::sys::signal::{Signal, raise};

    use super::*;
    use crate::spawn::child::exit_code;

    #[test]
    fn a_signal_before_the_spawn_stops_it() {
        let forwarder = Forwarder::install().unwrap();
        // Sent to this (the waiting) thread: pending at once, as it is blocked here.
        raise(Signal::SIGTERM).unwrap();
        match forwarder.spawn(&mut Command::new("true")).unwrap() {
            Spawned::Interrupted(sig) => assert_eq!(sig, libc::SIGTERM),
            Spawned::Child(_) => panic!("the child was started after a SIGTERM"),
        }
    }

    #[test]
    fn a_signal_to_the_process_reaches_the_child_through_another_thread() {
        // The test harness's other threads do not block SIGTERM: it is delivered to one of
        // them, runs the relay, and reaches the waiting thread, which sends it on.
        let forwarder = Forwarder::install().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "kill -TERM $PPID; exec sleep 30"]);
        let Spawned::Child(mut child) = forwarder.spawn(&mut cmd).unwrap() else {
            panic!("not started")
        };
        let status = forwarder.wait(&mut child).unwrap();
        assert_eq!(exit_code(status), 128 + libc::SIGTERM, "{status:?}");
    }

    #[test]
    fn the_child_starts_with_nothing_blocked() {
        let forwarder = Forwarder::install().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "grep '^SigBlk:' /proc/self/status"]).stdout(std::process::Stdio::piped());
        let Spawned::Child(mut child) = forwarder.spawn(&mut cmd).unwrap() else {
            panic!("not started")
        };
        let status = forwarder.wait(&mut child).unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        assert!(status.success());
        assert_eq!(out.trim(), "SigBlk:\t0000000000000000");
        drop(forwarder);
        // The old mask is back: nothing of ours left blocked on this thread.
        assert!(!SigSet::thread_get_mask().unwrap().contains(Signal::SIGTERM));
    }
}
