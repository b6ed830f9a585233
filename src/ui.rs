//! What we say on stderr. Never a token: callers pass only metadata.

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Turns `-v` output on.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether `-v` was given.
pub fn is_verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// A line the user should see (which store was written, a warning).
pub fn note(msg: impl AsRef<str>) {
    eprintln!("influxctl-cred: {}", msg.as_ref());
}

/// A warning.
pub fn warn(msg: impl AsRef<str>) {
    eprintln!("influxctl-cred: warning: {}", msg.as_ref());
}

/// A line shown only with `-v`.
pub fn verbose(msg: impl AsRef<str>) {
    if is_verbose() {
        eprintln!("influxctl-cred: {}", msg.as_ref());
    }
}

/// Prints an error and its hint, as the one-shot commands do before exiting.
pub fn report(err: &crate::error::Error) {
    eprintln!("influxctl-cred: error: {err}");
    eprintln!("influxctl-cred: kind: {}", err.kind().as_str());
    if let Some(hint) = err.hint() {
        eprintln!("influxctl-cred: hint: {hint}");
    }
}
