//! The child process of `exec`: spawned with stdio inherited and without our secret variables
//! in its environment; SIGINT, SIGTERM, SIGHUP and SIGQUIT forwarded to it while it runs; its exit
//! status turned into our exit code (128+N when signal N killed it).
//!
//! Signals are caught by a [`Forwarder`] installed *before* the derived config is written, so
//! that none of them can end us while it exists: a signal that arrives before the child is
//! spawned stops the run instead (the child is never started), one that arrives later goes to
//! the child. The child is spawned under the forwarder's lock, so no signal falls between.

use std::ffi::{OsStr, OsString};
use std::process::{Child, Command, ExitStatus};

use crate::error::Error;
use crate::secret::Token;
use crate::store::env::GENERIC_VAR;
use crate::ui;

/// `env`'s code for a program that exists but cannot be run.
pub const EXIT_CANNOT_EXECUTE: i32 = 126;
/// `env`'s code for a program that is not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// Variables the child never sees: the env store's tokens and the age identity of CI.
pub fn is_secret_var(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with(GENERIC_VAR) || n == "INFLUXCTL_CRED_AGE_IDENTITY")
}

/// Runs `program` with `args`, `extra_env` (secrets) and `plain_env` (paths, names) added to its
/// environment, and returns the exit code to leave with: the child's, 128+N for a signal,
/// 126/127 when it could not be started.
pub fn run(
    program: &OsStr,
    args: &[OsString],
    extra_env: &[(OsString, Token)],
    plain_env: &[(OsString, OsString)],
    forwarder: &Forwarder,
) -> i32 {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (name, _) in std::env::vars_os() {
        if is_secret_var(&name) {
            cmd.env_remove(&name);
        }
    }
    for (name, value) in extra_env {
        cmd.env(name, value.expose());
    }
    cmd.envs(plain_env.iter().map(|(k, v)| (k, v)));
    let mut child = match forwarder.spawn(&mut cmd) {
        Ok(Spawned::Child(child)) => child,
        Ok(Spawned::Interrupted(sig)) => {
            ui::note(format!("stopped by signal {sig} before the program started"));
            return 128 + sig;
        }
        Err(e) => {
            let code = match e.kind() {
                std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
                _ => EXIT_CANNOT_EXECUTE,
            };
            ui::report(&Error::io("cannot run", program, e));
            return code;
        }
    };
    match forwarder.wait(&mut child) {
        Ok(status) => exit_code(status),
        Err(e) => {
            ui::report(&Error::io("cannot wait for", program, e));
            1
        }
    }
}

/// The code a shell would show for the child's status.
pub fn exit_code(status: ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    1
}

/// What [`Forwarder::spawn`] did.
pub enum Spawned {
    Child(Child),
    /// A signal came before the child was started; it was not started.
    Interrupted(i32),
}

#[cfg(unix)]
pub use unix::Forwarder;

#[cfg(unix)]
mod unix {
    use std::process::{Child, Command, ExitStatus};
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::thread::JoinHandle;

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    use signal_hook::iterator::{Handle, Signals};

    use super::Spawned;
    use crate::error::{Error, Result};

    #[derive(Default)]
    struct State {
        child: Option<Pid>,
        pending: Option<i32>,
    }

    fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
        state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Catches SIGINT, SIGTERM, SIGHUP and SIGQUIT (handled as SIGTERM is: no core dump of
    /// ours, the derived config removed) and sends them on to the child.
    pub struct Forwarder {
        state: Arc<Mutex<State>>,
        handle: Handle,
        thread: Option<JoinHandle<()>>,
    }

    impl Forwarder {
        /// Starts catching the signals.
        pub fn install() -> Result<Forwarder> {
            let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
                .map_err(|e| Error::Other(format!("cannot catch signals: {e}")))?;
            let handle = signals.handle();
            let state = Arc::new(Mutex::new(State::default()));
            let shared = Arc::clone(&state);
            let thread = std::thread::Builder::new()
                .name("exec-signals".into())
                .spawn(move || {
                    for sig in signals.forever() {
                        let mut s = lock(&shared);
                        match s.child {
                            Some(pid) => {
                                if let Ok(signal) = Signal::try_from(sig) {
                                    let _ = kill(pid, signal);
                                }
                            }
                            None => {
                                s.pending.get_or_insert(sig);
                            }
                        }
                    }
                })
                .map_err(|e| Error::Other(format!("cannot start the signal thread: {e}")))?;
            Ok(Forwarder { state, handle, thread: Some(thread) })
        }

        /// Spawns `cmd` unless a signal came first.
        pub fn spawn(&self, cmd: &mut Command) -> std::io::Result<Spawned> {
            let mut s = lock(&self.state);
            if let Some(sig) = s.pending {
                return Ok(Spawned::Interrupted(sig));
            }
            let child = cmd.spawn()?;
            // pid_t is an i32 on every Unix; a child id always fits.
            s.child = Some(Pid::from_raw(i32::try_from(child.id()).expect("pid fits in pid_t")));
            Ok(Spawned::Child(child))
        }

        /// Waits for the child. Where the OS allows, the child is seen to exit *before* it is
        /// reaped, and forwarding stops in between, so that a signal never reaches a process
        /// that reused its id.
        pub fn wait(&self, child: &mut Child) -> std::io::Result<ExitStatus> {
            #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
            {
                use nix::sys::wait::{Id, WaitPidFlag, waitid};
                let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid fits in pid_t"));
                let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
                while let Err(nix::errno::Errno::EINTR) = waitid(Id::Pid(pid), flags) {}
            }
            lock(&self.state).child = None;
            child.wait()
        }
    }

    impl Drop for Forwarder {
        /// Stops forwarding. The thread ends by itself once woken (and unregisters the
        /// handlers); it is not joined, which would only add a thread switch to every run.
        fn drop(&mut self) {
            self.handle.close();
            lock(&self.state).child = None;
            drop(self.thread.take());
        }
    }
}

#[cfg(not(unix))]
pub use other::Forwarder;

#[cfg(not(unix))]
mod other {
    use std::process::{Child, Command, ExitStatus};

    use super::Spawned;
    use crate::error::Result;

    /// Off Unix, Ctrl-C reaches the whole console group; nothing is forwarded.
    pub struct Forwarder;

    impl Forwarder {
        pub fn install() -> Result<Forwarder> {
            Ok(Forwarder)
        }

        pub fn spawn(&self, cmd: &mut Command) -> std::io::Result<Spawned> {
            cmd.spawn().map(Spawned::Child)
        }

        pub fn wait(&self, child: &mut Child) -> std::io::Result<ExitStatus> {
            child.wait()
        }
    }

    impl Drop for Forwarder {
        /// Nothing to stop; callers drop the forwarder at the same point on every OS.
        fn drop(&mut self) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_vars_are_recognised() {
        for name in
            ["INFLUXCTL_CRED_TOKEN", "INFLUXCTL_CRED_TOKEN_PROD", "INFLUXCTL_CRED_AGE_IDENTITY"]
        {
            assert!(is_secret_var(OsStr::new(name)), "{name}");
        }
        for name in ["INFLUXCTL_PROFILE", "INFLUXCTL_CRED_HOME", "INFLUXCTL_CRED_AGE_IDENTITY_FILE"]
        {
            assert!(!is_secret_var(OsStr::new(name)), "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn exit_code_maps_signals_to_128_plus_n() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
    }
}
