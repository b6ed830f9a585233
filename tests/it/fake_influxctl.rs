//! The stand-in influxctl (`examples/fake-influxctl.rs`) for integration tests: where it is
//! (built once per test run, since `cargo test --test it` alone does not build examples), how
//! to read the report it writes, and a `PATH` folder where it is called `influxctl`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// The stand-in under the name `influxctl` (a link to [`built`] in a folder of its own; a copy
/// off Unix): `exec` treats a PROGRAM by another name as a script (docs/spec.md §7.4).
pub fn binary() -> PathBuf {
    static NAMED: OnceLock<PathBuf> = OnceLock::new();
    NAMED
        .get_or_init(|| {
            let built = built();
            let dir = built.parent().expect("examples folder").join("stand-in");
            std::fs::create_dir_all(&dir).expect("mkdir stand-in");
            let name = format!("influxctl{}", std::env::consts::EXE_SUFFIX);
            let named = dir.join(&name);
            // Made under a fresh name and renamed over: another test run may be doing the same.
            let fresh = dir.join(format!(".{name}.{}", std::process::id()));
            let _ = std::fs::remove_file(&fresh);
            #[cfg(unix)]
            std::os::unix::fs::symlink(&built, &fresh).expect("link the stand-in");
            #[cfg(not(unix))]
            std::fs::copy(&built, &fresh).expect("copy the stand-in");
            std::fs::rename(&fresh, &named).expect("name the stand-in influxctl");
            named
        })
        .clone()
}

/// The stand-in's binary as cargo built it (`fake-influxctl`), with the same profile as this
/// test binary; or the one `INFLUXCTL_CRED_TEST_FAKE_INFLUXCTL` names, already built (a test
/// binary run under Wine cannot run cargo: scripts/test-windows builds the stand-in first).
pub fn built() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(given) = std::env::var_os("INFLUXCTL_CRED_TEST_FAKE_INFLUXCTL") {
                let bin = PathBuf::from(given);
                assert!(
                    bin.is_file(),
                    "INFLUXCTL_CRED_TEST_FAKE_INFLUXCTL: {} missing",
                    bin.display()
                );
                return bin;
            }
            // target/<profile>/deps/it-… → target/<profile>
            let exe = std::env::current_exe().expect("test binary path");
            let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = std::process::Command::new(cargo);
            build.args(["build", "--quiet", "--example", "fake-influxctl"]);
            forget_target_env(&mut build);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build --example fake-influxctl");
            assert!(status.success(), "cannot build the fake influxctl");
            let name = format!("fake-influxctl{}", std::env::consts::EXE_SUFFIX);
            let bin = profile_dir.join("examples").join(name);
            assert!(bin.is_file(), "{} missing", bin.display());
            bin
        })
        .clone()
}

/// Removes the variables cargo sets for a test target (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, …)
/// from the nested `cargo build`. A build script that watches one of them (ring's watches
/// `CARGO_MANIFEST_DIR`) would otherwise see it change between `cargo test` and this build, and
/// each would rebuild ring and everything above it (our lib, the binary) every time: a minute or
/// more per test run on a loaded machine.
pub fn forget_target_env(build: &mut std::process::Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo = key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_EXE_")
            || matches!(
                key,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_TARGET_TMPDIR"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_RUSTC_CURRENT_DIR"
                    | "OUT_DIR"
            );
        if set_by_cargo {
            build.env_remove(key);
        }
    }
}

/// A folder inside `root` holding `influxctl` (the stand-in) and `influxctl-cred` (the binary
/// under test), to put first on `PATH` (links on Unix; copies named `….exe` elsewhere).
pub fn path_dir(root: &Path) -> PathBuf {
    let dir = root.join("bin");
    std::fs::create_dir_all(&dir).expect("mkdir bin");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_influxctl-cred"));
    for (name, target) in [("influxctl", binary()), ("influxctl-cred", ours)] {
        let link = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        // Tests that share a root (threads of one test) may race here: the link another
        // thread made first is the same link.
        #[cfg(unix)]
        let made = std::os::unix::fs::symlink(target, &link);
        #[cfg(not(unix))]
        let made = std::fs::copy(target, &link).map(drop);
        match made {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => panic!("link {}: {e}", link.display()),
        }
    }
    dir
}

/// `PATH` with `dir` first.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let mut all = vec![dir.to_owned()];
    all.extend(std::env::split_paths(&rest));
    std::env::join_paths(all).expect("join PATH")
}

/// The JSON report the stand-in wrote, or `None` when it did not run that far.
pub fn report(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("report is JSON"))
}

/// What the stand-in reports instead of a token.
pub fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
