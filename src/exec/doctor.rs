//! `doctor` checks about influxctl: its config parses, which profiles still hold plaintext
//! tokens, whether stored bindings still match their profiles, and influxctl on `PATH` with its
//! version (asked with a short timeout, so a hung binary cannot hang `doctor`).

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::app::Vault;
use crate::check::{Check, Status};
use crate::influxctl::config::InfluxConfig;

/// How long `influxctl version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(3);

/// The influxctl checks.
pub fn checks(vault: &Vault) -> Vec<Check> {
    let mut out = Vec::new();
    let config = config_checks(vault, &mut out);
    if let Some(config) = &config {
        binding_checks(vault, config, &mut out);
    }
    out.push(
        match std::env::var_os(crate::lifecycle::run::PROGRAM_ENV).filter(|v| !v.is_empty()) {
            Some(set) => set_binary_check(&set),
            None => binary_check(std::env::var_os("PATH").as_deref()),
        },
    );
    out
}

fn config_checks(vault: &Vault, out: &mut Vec<Check>) -> Option<InfluxConfig> {
    let Some(path) = vault.influxctl_config_path() else {
        out.push(Check::new("influxctl config", Status::Warn, "cannot find its folder"));
        return None;
    };
    let config = match InfluxConfig::load(&path) {
        Ok(Some(c)) => c,
        Ok(None) => {
            let detail = format!("none at {}", path.display());
            out.push(Check::new("influxctl config", Status::Ok, detail));
            return None;
        }
        Err(e) => {
            out.push(Check::new("influxctl config", Status::Fail, e.to_string()));
            return None;
        }
    };
    let names = config.profile_names();
    let plural = if names.len() == 1 { "" } else { "s" };
    let detail = format!("{} ({} profile{plural})", path.display(), names.len());
    out.push(Check::new("influxctl config", Status::Ok, detail));
    let plain: Vec<&String> = names.iter().filter(|n| config.has_plaintext_token(n)).collect();
    if plain.is_empty() {
        out.push(Check::new("plaintext tokens", Status::Ok, "none in influxctl's config"));
    }
    for name in plain {
        out.push(Check::new(
            format!("plaintext token {name}"),
            Status::Warn,
            format!(
                "profile {name:?} holds a plaintext mgmt_token; move it with `influxctl-cred import -p {name}`"
            ),
        ));
    }
    Some(config)
}

fn binding_checks(vault: &Vault, config: &InfluxConfig, out: &mut Vec<Check>) {
    let (rows, _failed) = vault.list();
    for row in rows.iter().filter(|r| !r.meta.cluster.is_empty()) {
        let name = format!("binding {} ({})", row.meta.profile, row.store);
        let check = match config.cluster(&row.meta.profile).transpose() {
            Some(Err(e)) => Check::new(name, Status::Fail, e.to_string()),
            None => Check::new(
                name,
                Status::Ok,
                "the profile is not in influxctl's config; exec builds it from the binding",
            ),
            Some(Ok(now)) => match row.meta.cluster.check(&row.meta.profile, &now) {
                Ok(_) => Check::new(name, Status::Ok, "matches influxctl's profile"),
                Err(e) => Check::new(name, Status::Fail, e.to_string()),
            },
        };
        out.push(check);
    }
}

/// influxctl found on `path_var`, and what `influxctl version` says.
pub fn binary_check(path_var: Option<&OsStr>) -> Check {
    let Some(bin) = path_var.and_then(|p| find_in_path(p, "influxctl")) else {
        return Check::new("influxctl", Status::Warn, "not found on PATH");
    };
    match version(&bin, VERSION_TIMEOUT) {
        Ok(v) => Check::new("influxctl", Status::Ok, format!("{} ({v})", bin.display())),
        Err(why) => Check::new("influxctl", Status::Warn, format!("{}: {why}", bin.display())),
    }
}

/// The influxctl that `$INFLUXCTL_CRED_INFLUXCTL` names (a path, or a name on `PATH`), and
/// what its `version` says.
fn set_binary_check(set: &OsStr) -> Check {
    let env = crate::lifecycle::run::PROGRAM_ENV;
    let Some(bin) = super::target::resolve(set) else {
        return Check::new(
            "influxctl",
            Status::Warn,
            format!("${env} is {}, which is not an executable file", Path::new(set).display()),
        );
    };
    match version(&bin, VERSION_TIMEOUT) {
        Ok(v) => {
            Check::new("influxctl", Status::Ok, format!("{} ({v}; from ${env})", bin.display()))
        }
        Err(why) => Check::new("influxctl", Status::Warn, format!("{}: {why}", bin.display())),
    }
}

/// The first executable file named `name` in the folders of a `PATH` value.
pub fn find_in_path(path_var: &OsStr, name: &str) -> Option<PathBuf> {
    let file = if cfg!(windows) { format!("{name}.exe") } else { name.to_owned() };
    std::env::split_paths(path_var).map(|dir| dir.join(&file)).find(|p| is_executable(p))
}

/// A regular file that may be executed (off Unix: a regular file).
#[cfg(unix)]
pub(super) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
pub(super) fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

/// Runs `bin version` for at most `timeout`; its first line of output.
fn version(bin: &Path, timeout: Duration) -> Result<String, String> {
    let mut cmd = Command::new(bin);
    cmd.arg("version").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if crate::spawn::child::is_secret_var(&name) {
            cmd.env_remove(&name);
        }
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`influxctl version` did not answer within {timeout:?}"));
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    let mut text = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.by_ref().take(4096).read_to_string(&mut text);
    }
    if !status.success() {
        return Err(format!("`influxctl version` failed ({status})"));
    }
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no version printed");
    Ok(line.chars().take(120).collect())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, body: &str) {
        let p = dir.join("influxctl");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn binary_check_reports_version_missing_and_hung() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().as_os_str();
        assert_eq!(binary_check(Some(path)).status, Status::Warn);
        script(dir.path(), "echo 'influxctl 2.10.2 (test)'");
        let c = binary_check(Some(path));
        assert_eq!(c.status, Status::Ok, "{}", c.detail);
        assert!(c.detail.contains("influxctl 2.10.2 (test)"), "{}", c.detail);
        script(dir.path(), "exec sleep 30");
        let started = Instant::now();
        assert!(version(&dir.path().join("influxctl"), Duration::from_millis(300)).is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
