//! Where things live (docs/spec.md §2): one function per path. `INFLUXCTL_CRED_HOME` moves everything of
//! ours under one folder.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable that moves all of our files under one folder.
pub const HOME_ENV: &str = "INFLUXCTL_CRED_HOME";

/// Our own folders, resolved once.
#[derive(Debug, Clone)]
pub struct Paths {
    config_dir: PathBuf,
    data_dir: PathBuf,
}

impl Paths {
    /// Resolves from `INFLUXCTL_CRED_HOME`, else the platform's config and data dirs.
    pub fn from_env() -> Result<Paths> {
        if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Paths::under(PathBuf::from(home)));
        }
        let config = dirs::config_dir().ok_or_else(|| no_dir("configuration"))?;
        let data = dirs::data_dir().ok_or_else(|| no_dir("data"))?;
        Ok(Paths {
            config_dir: config.join("influxctl-cred"),
            data_dir: data.join("influxctl-cred"),
        })
    }

    /// Everything under one folder (what `INFLUXCTL_CRED_HOME` does).
    pub fn under(home: PathBuf) -> Paths {
        Paths { config_dir: home.clone(), data_dir: home }
    }

    /// Our settings: `config.toml`.
    pub fn settings(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The folder that holds our settings and the default identity.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// The file store's folder (also home of the store lock and the metadata index).
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join("store")
    }

    /// The default age identity, generated on first write when no other identity exists.
    pub fn default_identity(&self) -> PathBuf {
        self.config_dir.join("identity.txt")
    }
}

fn no_dir(what: &str) -> Error {
    Error::Other(format!(
        "cannot find the user's {what} folder; set {HOME_ENV} to a private folder"
    ))
}

/// influxctl's default config path: Go's `os.UserConfigDir()` + `influxctl/config.toml`, so
/// `$XDG_CONFIG_HOME` (else `~/.config`) on Linux, `~/Library/Application Support` on macOS,
/// `%AppData%` on Windows.
pub fn influxctl_default_config() -> Option<PathBuf> {
    go_user_config_dir().map(|d| d.join("influxctl").join("config.toml"))
}

fn go_user_config_dir() -> Option<PathBuf> {
    if cfg!(target_os = "linux") || cfg!(all(unix, not(target_os = "macos"))) {
        // Go: $XDG_CONFIG_HOME if absolute... in practice if non-empty, else $HOME/.config.
        if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(x));
        }
        return std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|h| PathBuf::from(h).join(".config"));
    }
    if cfg!(windows) {
        // Go reads the variable %AppData% (no known-folder lookup, and an error when it is
        // unset): read the same, so that a moved %AppData% leads both to the same config.
        return std::env::var_os("APPDATA").filter(|v| !v.is_empty()).map(PathBuf::from);
    }
    dirs::config_dir()
}
