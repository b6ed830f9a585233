//! Shared helpers: a private home per test, the binary under test, and scans for leaked tokens.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A token that is obviously fake and easy to scan for.
pub const TOKEN: &str = "M.V1.test-0123456789abcdefTOKEN";

/// A private home for one test: `INFLUXCTL_CRED_HOME`, `HOME` and the XDG folders all point
/// inside it, and no variable of the outer environment that we read leaks in.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new().prefix("icred-test-").tempdir().expect("temp dir");
        for sub in ["home", "cred", "xdg-config", "xdg-data", "xdg-cache", "appdata"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        TestEnv { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `INFLUXCTL_CRED_HOME`.
    pub fn cred_home(&self) -> PathBuf {
        self.path().join("cred")
    }

    /// The file store's folder.
    pub fn store_dir(&self) -> PathBuf {
        self.cred_home().join("store")
    }

    /// influxctl's default config path inside this home (`$XDG_CONFIG_HOME/influxctl/config.toml`;
    /// `%APPDATA%\influxctl\config.toml` on Windows).
    pub fn influxctl_config(&self) -> PathBuf {
        let base = if cfg!(windows) { "appdata" } else { "xdg-config" };
        self.path().join(base).join("influxctl").join("config.toml")
    }

    /// Writes influxctl's default config.
    pub fn write_influxctl_config(&self, text: &str) -> PathBuf {
        let p = self.influxctl_config();
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write config");
        p
    }

    /// The binary under test, with a clean environment pointing into this home. The keyring is
    /// made unreachable (no D-Bus session) unless a test puts `DBUS_SESSION_BUS_ADDRESS` back.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("influxctl-cred").expect("binary built");
        c.env_clear();
        // Windows cannot start or run a process without its system variables (the system
        // folder, the user's profile and temp folders); none of them is ours to isolate. Under
        // Wine (scripts/test-windows) a child's Unix process also takes its WINEPREFIX and
        // WINEDEBUG from this environment: without them it would start in another prefix.
        #[cfg(windows)]
        for (key, value) in std::env::vars_os() {
            let system = key.to_str().is_some_and(|k| {
                let k = k.to_ascii_uppercase();
                k.starts_with("WINE")
                    || ["SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP"]
                        .iter()
                        .chain(&["USERPROFILE", "APPDATA", "LOCALAPPDATA", "PROGRAMDATA"])
                        .any(|s| k == *s)
            });
            if system {
                c.env(key, value);
            }
        }
        c.env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path().join("home"))
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.path().join("xdg-data"))
            .env("XDG_CACHE_HOME", self.path().join("xdg-cache"))
            // Where Go's os.UserConfigDir (so influxctl, and we for its config) looks on Windows.
            .env("APPDATA", self.path().join("appdata"))
            .env("INFLUXCTL_CRED_HOME", self.cred_home())
            // Never prompt on the developer's terminal (children inherit it): tests that need
            // a terminal give one explicitly.
            .env("CI", "true")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/influxctl-cred-test-bus")
            // age's scrypt work factor is calibrated per build; pinned for tests.
            .env("INFLUXCTL_CRED_SCRYPT_LOG_N", "10");
        c
    }

    /// Every file under this home whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        files_containing(self.path(), needle.as_bytes())
    }
}

/// Every regular file under `root` whose bytes contain `needle`.
pub fn files_containing(root: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else { continue };
        for item in read.flatten() {
            let p = item.path();
            let Ok(ft) = item.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file()
                && let Ok(bytes) = std::fs::read(&p)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                hits.push(p);
            }
        }
    }
    hits
}

/// Output as text, for assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
