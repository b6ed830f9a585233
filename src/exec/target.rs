//! Whether `exec`'s PROGRAM is influxctl (docs/spec.md §7.4), and where the real influxctl is.
//!
//! PROGRAM is influxctl when its file name is `influxctl` (`influxctl.exe`), or when it is the
//! same file (same device and inode once symlinks are followed) as `$INFLUXCTL_CRED_INFLUXCTL`
//! or as the `influxctl` on `PATH`. Anything else is a script or another program: its
//! arguments pass untouched and an `influxctl` shim on its `PATH` adds the derived config.
//!
//! The real influxctl, which the shim runs, is `$INFLUXCTL_CRED_INFLUXCTL` (a path, or a name
//! looked up on `PATH`), else `influxctl` on `PATH`; never our own binary (a shim folder left
//! on `PATH`, or our binary linked as `influxctl`), which would run itself.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::doctor::is_executable;
use crate::lifecycle::run::PROGRAM_ENV;

pub use crate::spawn::child::named_influxctl;

/// What `exec` was asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    Influxctl,
    /// A script or another program, and the real influxctl for its shim (none found: `None`).
    Other {
        real: Option<PathBuf>,
    },
}

/// Influxctl or not ([`is_influxctl`]); the name alone answers the common case without a look
/// at `PATH`.
pub fn classify(program: &OsStr) -> Program {
    if named_influxctl(program) {
        return Program::Influxctl;
    }
    let known = known();
    match resolve(program) {
        Some(p) if known.iter().any(|k| same_file(&p, k)) => Program::Influxctl,
        _ => Program::Other { real: known.into_iter().next() },
    }
}

/// Whether `program` is influxctl: by name, or the same file as `real` or as any other
/// influxctl we know of.
pub fn is_influxctl(program: &OsStr, real: Option<&Path>) -> bool {
    if named_influxctl(program) {
        return true;
    }
    let Some(resolved) = resolve(program) else { return false };
    known().iter().map(PathBuf::as_path).chain(real).any(|k| same_file(&resolved, k))
}

/// The influxctl the shim runs, or `None` when there is none (the shim then exits 127).
pub fn real_influxctl() -> Option<PathBuf> {
    known().into_iter().next()
}

/// The program a direct run (not a script) starts for `program`: for a bare `influxctl`
/// (`influxctl.exe`), `$INFLUXCTL_CRED_INFLUXCTL` when it is set and found (it names the real
/// influxctl everywhere: here, in the shim, for the lifecycle commands), else `program` as
/// given when it can be found. `None`: nothing to run (exit 127, before any token is read).
pub fn direct(program: &OsStr) -> Option<std::ffi::OsString> {
    let bare = Path::new(program).components().count() == 1 && named_influxctl(program);
    if bare && let Some(set) = std::env::var_os(PROGRAM_ENV).filter(|v| !v.is_empty()) {
        // A path that exists but cannot be executed is run all the same, so that it fails as
        // such (126), not as "not found".
        let given = Path::new(&set);
        let exists = given.components().count() > 1 && given.exists();
        return resolve(&set).map(PathBuf::into_os_string).or_else(|| exists.then_some(set));
    }
    resolve(program).map(|_| program.to_owned())
}

/// [`direct`], or `None` after saying on stderr that nothing was found to run (and which
/// variable named it, when one did), with the hint that names both ways out.
pub fn direct_or_report(program: &OsStr) -> Option<std::ffi::OsString> {
    let found = direct(program);
    if found.is_none() {
        let named = std::env::var_os(PROGRAM_ENV)
            .filter(|v| !v.is_empty() && named_influxctl(program))
            .map(|v| format!(" (${PROGRAM_ENV} is {})", Path::new(&v).display()))
            .unwrap_or_default();
        crate::ui::report(&crate::error::Error::Other(format!(
            "cannot run {}{named}: not found",
            Path::new(program).display()
        )));
        crate::ui::stderr_line(crate::spawn::child::NOT_FOUND_HINT);
    }
    found
}

/// `$INFLUXCTL_CRED_INFLUXCTL`, then `influxctl` on `PATH`, as found, without our own binary.
fn known() -> Vec<PathBuf> {
    let ours = std::env::current_exe().ok();
    let from_env = std::env::var_os(PROGRAM_ENV).filter(|v| !v.is_empty());
    let on_path = OsStr::new(if cfg!(windows) { "influxctl.exe" } else { "influxctl" });
    from_env
        .as_deref()
        .and_then(resolve)
        .into_iter()
        .chain(resolve(on_path))
        .filter(|p| ours.as_deref().is_none_or(|o| !same_file(p, o)))
        .collect()
}

/// `program` as a path: as given when it names a folder part, else the first executable file
/// of that name on `PATH`.
pub fn resolve(program: &OsStr) -> Option<PathBuf> {
    let p = Path::new(program);
    if p.components().count() > 1 || p.is_absolute() {
        return is_executable(p).then(|| p.to_owned());
    }
    let path_var = std::env::var_os("PATH")?;
    std::env::split_paths(&path_var)
        .flat_map(|dir| spellings(dir.join(p)))
        .find(|c| is_executable(c))
}

/// The names a program may have on disk: as given and, on Windows, with `.exe` when it names
/// no extension (as the system's own search does for `influxctl`).
fn spellings(path: PathBuf) -> Vec<PathBuf> {
    if cfg!(windows) && path.extension().is_none() {
        let exe = path.with_extension("exe");
        return vec![path, exe];
    }
    vec![path]
}

/// Whether `a` and `b` are one file once symlinks are followed.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn named_influxctl_looks_at_the_file_name_only() {
        for yes in ["influxctl", "/usr/local/bin/influxctl", "./influxctl", "C/influxctl.EXE"] {
            assert!(named_influxctl(OsStr::new(yes)), "{yes}");
        }
        for no in ["sh", "/bin/sh", "influxctl-cred", "influxctl.sh", "my-influxctl"] {
            assert!(!named_influxctl(OsStr::new(no)), "{no}");
        }
    }

    #[test]
    fn same_file_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, "x").unwrap();
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let c = dir.path().join("c");
        std::fs::write(&c, "x").unwrap();
        assert!(same_file(&a, &b));
        assert!(!same_file(&a, &c));
        assert!(!same_file(&a, &dir.path().join("missing")));
    }

    #[test]
    fn a_program_linked_to_the_real_one_is_influxctl() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real-ic");
        std::fs::write(&real, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
        let alias = dir.path().join("ic");
        std::os::unix::fs::symlink(&real, &alias).unwrap();
        assert!(is_influxctl(alias.as_os_str(), Some(&real)));
        assert!(!is_influxctl(OsStr::new("/bin/sh"), Some(&real)));
    }
}
