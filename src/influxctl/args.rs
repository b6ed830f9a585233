//! influxctl's global flags, read from the arguments `exec` is asked to run, the way influxctl
//! (a Go program using the standard `flag` rules) reads them: `--name value`, `--name=value`,
//! one or two dashes, `--` ends the flags. `exec` needs four things from them: the config file
//! (`--config`), the profile (`--profile`), the `--account`/`--cluster` overrides (the cluster
//! the token will really be sent to), and whether the run needs a token at all (`help`,
//! `version`, `--help`, no command). It then rewrites `--config` to point at the derived config.
//!
//! `--config` and `--profile` are honoured anywhere before `--`, not only before the command:
//! whichever way influxctl treats a late flag, the token then goes to the profile it will use.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Global flags of influxctl that take a value.
const VALUE_FLAGS: [&str; 5] = ["config", "profile", "account", "cluster", "timeout"];

/// How a flag was written, so that it can be rewritten the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    /// `--config PATH`: the value is the next argument.
    Separate,
    /// `--config=PATH`: the text before the value, `--config=` or `-config=`.
    Joined(String),
}

/// One occurrence of a value flag.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Occurrence {
    index: usize,
    form: Form,
    value: OsString,
}

/// What influxctl's arguments say.
#[derive(Debug, Clone, Default)]
pub struct InfluxArgs {
    args: Vec<OsString>,
    config: Vec<Occurrence>,
    profile: Vec<Occurrence>,
    account: Option<String>,
    cluster: Option<String>,
    /// The first argument that is not a flag (influxctl's command), when there is one.
    command: Option<String>,
    /// `-h`/`--help` before `--`, or `--version`/`-v` before the command.
    help_or_version_flag: bool,
}

impl InfluxArgs {
    /// Reads the global flags of `args` (influxctl's arguments, without the program name).
    /// A value flag at the very end without its value is a usage error.
    pub fn parse(args: &[OsString]) -> Result<InfluxArgs> {
        let mut out = InfluxArgs { args: args.to_vec(), ..InfluxArgs::default() };
        let mut i = 0;
        while i < args.len() {
            let Some(arg) = args[i].to_str() else {
                // Not UTF-8: never one of our flags; it can still be the command position.
                out.command.get_or_insert_with(|| args[i].to_string_lossy().into_owned());
                i += 1;
                continue;
            };
            if arg == "--" {
                break;
            }
            let Some((dashes, name, joined)) = split_flag(arg) else {
                out.command.get_or_insert_with(|| arg.to_owned());
                i += 1;
                continue;
            };
            let before_command = out.command.is_none();
            if matches!(name, "h" | "help") || (before_command && matches!(name, "v" | "version")) {
                out.help_or_version_flag = true;
            }
            if !VALUE_FLAGS.contains(&name) {
                i += 1;
                continue;
            }
            let (occurrence, used) = match joined {
                Some(value) => (
                    Occurrence {
                        index: i,
                        form: Form::Joined(format!("{dashes}{name}=")),
                        value: OsString::from(value),
                    },
                    1,
                ),
                None => {
                    let value = args.get(i + 1).ok_or_else(|| {
                        Error::Usage(format!("influxctl's {dashes}{name} needs a value"))
                    })?;
                    (Occurrence { index: i, form: Form::Separate, value: value.clone() }, 2)
                }
            };
            let text = || occurrence.value.to_string_lossy().into_owned();
            match name {
                "config" => out.config.push(occurrence),
                "profile" => {
                    if occurrence.value.to_str().is_none() {
                        return Err(Error::Usage("influxctl's --profile is not UTF-8".into()));
                    }
                    out.profile.push(occurrence);
                }
                "account" => out.account = Some(text()),
                "cluster" => out.cluster = Some(text()),
                _ => {}
            }
            i += used;
        }
        Ok(out)
    }

    /// The arguments as given.
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    /// `--config` (the last one wins, as with Go's flag package).
    pub fn config(&self) -> Option<PathBuf> {
        self.config.last().map(|o| PathBuf::from(&o.value))
    }

    /// `--profile` (the last one wins).
    pub fn profile(&self) -> Option<&str> {
        self.profile.last().and_then(|o| o.value.to_str())
    }

    /// `--account`, which overrides the profile's `account_id`.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// `--cluster`, which overrides the profile's `cluster_id`.
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// Whether influxctl can do this run without any token: no command, `help`, `version`,
    /// `--help` anywhere, `--version` before the command.
    pub fn needs_no_token(&self) -> bool {
        self.help_or_version_flag
            || matches!(self.command.as_deref(), None | Some("help" | "h" | "version"))
    }

    /// The arguments for the child: every `--config` now names `derived` (written the same
    /// way), or `--config derived` comes first when there was none; `--profile NAME` is put
    /// first when `add_profile` is given.
    pub fn rewrite(&self, derived: Option<&Path>, add_profile: Option<&str>) -> Vec<OsString> {
        let mut out = self.args.clone();
        if let Some(derived) = derived {
            for o in &self.config {
                match &o.form {
                    Form::Separate => out[o.index + 1] = derived.as_os_str().to_owned(),
                    Form::Joined(prefix) => {
                        let mut joined = OsString::from(prefix);
                        joined.push(derived.as_os_str());
                        out[o.index] = joined;
                    }
                }
            }
        }
        let mut front: Vec<OsString> = Vec::new();
        if let Some(p) = add_profile {
            front.extend([OsString::from("--profile"), OsString::from(p)]);
        }
        if let Some(derived) = derived.filter(|_| self.config.is_empty()) {
            front.extend([OsString::from("--config"), derived.as_os_str().to_owned()]);
        }
        front.extend(out);
        front
    }
}

/// `--name`, `-name`, `--name=value` → (dashes, name, value). `None` for a non-flag (`-` alone,
/// or no leading dash).
fn split_flag(arg: &str) -> Option<(&str, &str, Option<&str>)> {
    let (dashes, rest) = if let Some(r) = arg.strip_prefix("--") {
        ("--", r)
    } else if let Some(r) = arg.strip_prefix('-') {
        ("-", r)
    } else {
        return None;
    };
    if rest.is_empty() {
        return None;
    }
    Some(match rest.split_once('=') {
        Some((name, value)) => (dashes, name, Some(value)),
        None => (dashes, rest, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> InfluxArgs {
        InfluxArgs::parse(&args.iter().map(OsString::from).collect::<Vec<_>>()).unwrap()
    }

    fn strs(v: Vec<OsString>) -> Vec<String> {
        v.into_iter().map(|s| s.into_string().unwrap()).collect()
    }

    #[test]
    fn parse_reads_all_four_forms() {
        let a = parse(&["--config", "/a.toml", "--profile", "prod", "database", "list"]);
        assert_eq!(a.config(), Some(PathBuf::from("/a.toml")));
        assert_eq!(a.profile(), Some("prod"));
        let a = parse(&["--config=/b.toml", "-profile=stage", "database", "list"]);
        assert_eq!(a.config(), Some(PathBuf::from("/b.toml")));
        assert_eq!(a.profile(), Some("stage"));
        assert!(!a.needs_no_token());
    }

    #[test]
    fn parse_last_flag_wins_and_late_flags_count() {
        let a = parse(&["--profile", "a", "database", "list", "--profile=b"]);
        assert_eq!(a.profile(), Some("b"));
        let a = parse(&["database", "list", "--", "--profile", "c"]);
        assert_eq!(a.profile(), None, "nothing after -- is a flag");
    }

    #[test]
    fn parse_skips_values_of_other_flags() {
        let a = parse(&["--timeout", "5s", "--account", "acc", "--cluster=clu", "--debug", "help"]);
        assert_eq!((a.account(), a.cluster()), (Some("acc"), Some("clu")));
        assert!(a.needs_no_token(), "the command is help, not 5s");
    }

    #[test]
    fn needs_no_token_for_help_version_and_no_command() {
        for args in [
            &[][..],
            &["help"],
            &["version"],
            &["--help"],
            &["-h"],
            &["--version"],
            &["database", "list", "--help"],
            &["--debug"],
        ] {
            assert!(parse(args).needs_no_token(), "{args:?}");
        }
        assert!(!parse(&["database", "list", "-v"]).needs_no_token());
        assert!(!parse(&["management", "list"]).needs_no_token());
    }

    #[test]
    fn missing_value_is_usage_error() {
        let err = InfluxArgs::parse(&[OsString::from("--config")]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn rewrite_replaces_every_config_in_its_own_form() {
        let d = Path::new("/run/d/config.toml");
        let a = parse(&["--config", "/x", "database", "--config=/y", "list"]);
        assert_eq!(
            strs(a.rewrite(Some(d), None)),
            ["--config", "/run/d/config.toml", "database", "--config=/run/d/config.toml", "list"]
        );
        let a = parse(&["-config=/x", "database", "list"]);
        assert_eq!(strs(a.rewrite(Some(d), None))[0], "-config=/run/d/config.toml");
    }

    #[test]
    fn rewrite_adds_config_and_profile_in_front() {
        let a = parse(&["database", "list"]);
        assert_eq!(
            strs(a.rewrite(Some(Path::new("/d")), Some("prod"))),
            ["--profile", "prod", "--config", "/d", "database", "list"]
        );
        assert_eq!(strs(a.rewrite(None, None)), ["database", "list"]);
    }
}
