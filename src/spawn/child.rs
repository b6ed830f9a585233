//! The child process of `exec`: spawned with stdio inherited and without our secret variables
//! in its environment; SIGINT, SIGTERM, SIGHUP and SIGQUIT forwarded to it while it runs; its exit
//! status turned into our exit code (128+N when signal N killed it).
//!
//! Signals are caught by a [`Forwarder`] installed *before* the derived config is written, so
//! that none of them can end us while it exists: a signal that arrives before the child is
//! spawned stops the run instead (the child is never started), one that arrives later goes to
//! the child. On Unix the forwarder has no thread: the signals are blocked and taken with
//! `sigwait` while we wait for the child (`super::signals`).

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

/// What to say when influxctl cannot be found.
pub const NOT_FOUND_HINT: &str = "influxctl-cred: hint: install influxctl in a folder on PATH, or set INFLUXCTL_CRED_INFLUXCTL to its full path";

/// Whether `program`'s own file name says influxctl.
pub fn named_influxctl(program: &OsStr) -> bool {
    std::path::Path::new(program)
        .file_name()
        .and_then(OsStr::to_str)
        .is_some_and(|n| n == "influxctl" || n.eq_ignore_ascii_case("influxctl.exe"))
}

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
    run_noting(program, args, extra_env, plain_env, forwarder, |_| {})
}

/// [`run`], calling `noted(true)` once the child is running (before it is waited for), or
/// `noted(false)` when it was not started: `exec` writes its audit record there.
pub fn run_noting(
    program: &OsStr,
    args: &[OsString],
    extra_env: &[(OsString, Token)],
    plain_env: &[(OsString, OsString)],
    forwarder: &Forwarder,
    noted: impl FnOnce(bool),
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
            noted(false);
            return 128 + sig;
        }
        Err(e) => {
            let code = match e.kind() {
                std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
                _ => EXIT_CANNOT_EXECUTE,
            };
            ui::report(&Error::io("cannot run", program, e));
            noted(false);
            let path = std::path::Path::new(program);
            if code == EXIT_NOT_FOUND && path.components().count() > 1 && path.is_file() {
                // The file is there: what is missing is what it needs to start.
                ui::stderr_line(&format!(
                    "influxctl-cred: hint: {} exists; the interpreter on its #! line (or a loader it needs) is missing",
                    path.display()
                ));
            } else if code == EXIT_NOT_FOUND && named_influxctl(program) {
                ui::stderr_line(NOT_FOUND_HINT);
            }
            return code;
        }
    };
    noted(true);
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
pub use super::signals::Forwarder;

#[cfg(not(unix))]
pub use other::Forwarder;

#[cfg(not(unix))]
mod other {
    use std::process::{Child, Command, ExitStatus};

    use super::Spawned;
    use crate::error::Result;

    /// Off Unix, Ctrl-C reaches the whole console group, the child included; nothing is
    /// forwarded. On Windows this process answers Ctrl-C and Ctrl-Break itself while the
    /// forwarder lives (a console control handler that says "handled"), so the child stops and
    /// we still remove the derived config: the default handler would end us at once and leave
    /// it in `%TEMP%`. A handler routine is not inherited, so influxctl keeps the default.
    pub struct Forwarder;

    impl Forwarder {
        pub fn install() -> Result<Forwarder> {
            #[cfg(windows)]
            console::hold()?;
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
        /// Callers drop the forwarder at the same point on every OS: after the child and the
        /// derived config are gone.
        fn drop(&mut self) {
            #[cfg(windows)]
            console::release();
        }
    }

    #[cfg(windows)]
    #[allow(unsafe_code)]
    pub(super) mod console {
        use windows_sys::Win32::Foundation::{FALSE, TRUE};
        use windows_sys::Win32::System::Console::{
            CTRL_BREAK_EVENT, CTRL_C_EVENT, SetConsoleCtrlHandler,
        };
        use windows_sys::core::BOOL;

        use crate::error::{Error, Result};

        /// Ctrl-C and Ctrl-Break are ours to take (the child gets its own); a closed console,
        /// log-off or shut-down go on to the default handler.
        pub(crate) fn handled(event: u32) -> bool {
            event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT
        }

        /// The console control handler routine (it runs on a thread the system makes).
        unsafe extern "system" fn on_event(event: u32) -> BOOL {
            if handled(event) { TRUE } else { FALSE }
        }

        pub(super) fn hold() -> Result<()> {
            // SAFETY: `on_event` is a plain function with the signature the API requires; it
            // touches no state, so it is sound on the thread the system calls it on.
            if unsafe { SetConsoleCtrlHandler(Some(on_event), TRUE) } == 0 {
                return Err(Error::Other(format!(
                    "cannot take Ctrl-C for the run: {}",
                    std::io::Error::last_os_error()
                )));
            }
            Ok(())
        }

        pub(super) fn release() {
            // SAFETY: removes the routine `hold` added; nothing else refers to it.
            unsafe { SetConsoleCtrlHandler(Some(on_event), FALSE) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(windows)]
    #[test]
    fn ctrl_c_and_break_are_taken_and_a_closed_console_is_not() {
        use windows_sys::Win32::System::Console::{
            CTRL_BREAK_EVENT, CTRL_C_EVENT, CTRL_CLOSE_EVENT, CTRL_SHUTDOWN_EVENT,
        };
        assert!(other::console::handled(CTRL_C_EVENT) && other::console::handled(CTRL_BREAK_EVENT));
        assert!(!other::console::handled(CTRL_CLOSE_EVENT));
        assert!(!other::console::handled(CTRL_SHUTDOWN_EVENT));
        // Installing and removing the handler works on this console.
        let forwarder = Forwarder::install().expect("SetConsoleCtrlHandler");
        drop(forwarder);
    }

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
