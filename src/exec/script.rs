//! `exec` around a PROGRAM that is not influxctl (docs/spec.md §7.4): its arguments untouched, a
//! private `influxctl` shim first on its `PATH` ([`crate::spawn::shim_dir`]), the markers of
//! [`super::shim`] in its environment, `INFLUXCTL_CRED_CONFIG` naming the derived config. A
//! profile named by our `-p` only is passed on as `INFLUXCTL_PROFILE`, as `exec` passes it to
//! influxctl as `--profile`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::shim::Outer;
use crate::cli::Inject;
use crate::error::{Error, Result};
use crate::spawn::place::{Derived, Root};

/// A script's run: its own arguments, and the real influxctl for its shim.
#[derive(Debug, Clone)]
pub struct Script {
    pub args: Vec<OsString>,
    pub real: Option<PathBuf>,
}

/// The variables a script gets: `PATH` with `shim_dir` first, the markers, and
/// `INFLUXCTL_PROFILE` when only our `-p` named the profile.
pub fn env(
    shim_dir: &Path,
    outer: &Outer,
    add_profile: Option<&str>,
) -> Result<Vec<(OsString, OsString)>> {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![shim_dir.to_owned()];
    dirs.extend(std::env::split_paths(&rest));
    let path = std::env::join_paths(dirs).map_err(|e| {
        Error::Other(format!("cannot put the shim folder {} on PATH: {e}", shim_dir.display()))
    })?;
    let mut vars = vec![(OsString::from("PATH"), path)];
    vars.extend(outer.vars());
    if let Some(p) = add_profile {
        vars.push(("INFLUXCTL_PROFILE".into(), p.into()));
    }
    Ok(vars)
}

/// The derived config of a script: as `inject` says, except that a memfd is never inherited
/// (every process the script starts, background ones included, would keep it readable for as
/// long as one of them lives): this `exec` keeps it and hands each `influxctl` shim its own
/// descriptor over a Unix socket in a private folder of ours ([`Root::for_scripts`];
/// [`crate::spawn::served`]), named by `INFLUXCTL_CRED_CONFIG`. Off Linux the same folder
/// holds a FIFO served by this `exec`. Either way nothing a script's process holds reads the
/// token once `exec` has returned. `--inject file` and `fifo` already name a path that is gone
/// by then.
pub fn place(inject: Inject, text: Zeroizing<String>) -> Result<Derived> {
    if inject != Inject::Memfd {
        return Derived::place(inject, text);
    }
    let root = Root::for_scripts()?;
    root.sweep();
    #[cfg(target_os = "linux")]
    return Derived::served(&root, text);
    #[cfg(not(target_os = "linux"))]
    Derived::create(&root, Inject::Fifo, text)
}

/// Only `INFLUXCTL_PROFILE` (a script run without a token).
pub fn profile_env(add_profile: Option<&str>) -> Vec<(OsString, OsString)> {
    add_profile.map(|p| ("INFLUXCTL_PROFILE".into(), p.into())).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_puts_the_shim_first_and_names_the_config() {
        let outer = Outer {
            config: "/dev/fd/5".into(),
            real: Some("/usr/bin/influxctl".into()),
            source: "/home/u/.config/influxctl/config.toml".into(),
            profile: "prod".into(),
            derived: Default::default(),
        };
        let vars = env(Path::new("/run/x/shim"), &outer, Some("prod")).unwrap();
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let path = get("PATH").unwrap();
        assert_eq!(std::env::split_paths(&path).next().unwrap(), Path::new("/run/x/shim"));
        assert_eq!(get("INFLUXCTL_CRED_CONFIG").unwrap(), "/dev/fd/5");
        assert_eq!(get("INFLUXCTL_CRED_SHIM_REAL").unwrap(), "/usr/bin/influxctl");
        assert_eq!(get("INFLUXCTL_PROFILE").unwrap(), "prod");
        assert!(
            env(Path::new("/x"), &outer, None)
                .unwrap()
                .iter()
                .all(|(n, _)| n != "INFLUXCTL_PROFILE")
        );
    }
}
