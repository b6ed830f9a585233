//! A clap-free parse of the three hot command lines (`get`, `exec`, `helper`), which run in
//! front of every influxctl call: building clap's definition of all sixteen subcommands costs
//! more than the rest of a `get` (docs/performance.md).
//!
//! [`parse`] answers the very [`Cli`] that clap would build, or `None` for anything it does
//! not handle itself, and the caller then asks clap: every other subcommand, `--help`, `-h`,
//! `--version`, `help`, any unknown or repeated flag, combined short flags (`-vp`), `-pNAME`,
//! empty or dash-led values, values clap would refuse (an unknown `--store`, a bad
//! `--min-ttl`), `exec --database-token`, and any argument that is not UTF-8 before the
//! program of `exec`. So errors, help and version output are clap's, unchanged. The unit
//! tests hold both parsers to the same answer.

use std::ffi::OsString;

use crate::cli::{Cli, Command, ExecArgs, GetArgs, GetFormat, Global, Inject};

/// The command line of this process, parsed without clap when it is a plain `get`, `exec` or
/// `helper`.
pub fn parse_env() -> Option<Cli> {
    parse(std::env::args_os().skip(1))
}

/// `args` without the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Option<Cli> {
    let mut args = args.into_iter();
    let mut global = Global {
        profile: None,
        store: None,
        influxctl_config: None,
        verbose: false,
        non_interactive: false,
    };
    let mut seen = Seen::default();
    // Global flags may come before the subcommand.
    let sub = loop {
        let arg = args.next()?.into_string().ok()?;
        if !arg.starts_with('-') {
            break arg;
        }
        global_flag(&arg, &mut args, &mut global, &mut seen)?;
    };
    let command = match sub.as_str() {
        "get" => {
            let mut get = GetArgs { format: GetFormat::Token, min_ttl: None };
            while let Some(arg) = args.next() {
                let arg = arg.into_string().ok()?;
                let (name, inline) = split(&arg)?;
                match name {
                    "--format" => {
                        seen.once("format")?;
                        get.format = match value(inline, &mut args)?.as_str() {
                            "token" => GetFormat::Token,
                            "json" => GetFormat::Json,
                            _ => return None,
                        };
                    }
                    "--min-ttl" => {
                        seen.once("min-ttl")?;
                        get.min_ttl =
                            Some(crate::duration::parse_arg(&value(inline, &mut args)?).ok()?);
                    }
                    _ => global_flag(&arg, &mut args, &mut global, &mut seen)?,
                }
            }
            Command::Get(get)
        }
        "helper" => {
            while let Some(arg) = args.next() {
                global_flag(&arg.into_string().ok()?, &mut args, &mut global, &mut seen)?;
            }
            Command::Helper
        }
        "exec" => {
            let mut exec = ExecArgs {
                inject: None,
                min_ttl: None,
                allow_missing: false,
                database_token: Vec::new(),
                database_token_ttl: None,
                command: Vec::new(),
            };
            loop {
                let arg = args.next()?;
                let text = arg.to_str()?;
                if text == "--" {
                    break;
                }
                if !text.starts_with('-') {
                    exec.command.push(arg);
                    break;
                }
                let text = text.to_owned();
                let (name, inline) = split(&text)?;
                match name {
                    "--inject" => {
                        seen.once("inject")?;
                        exec.inject = Some(match value(inline, &mut args)?.as_str() {
                            "memfd" => Inject::Memfd,
                            "file" => Inject::File,
                            "fifo" => Inject::Fifo,
                            _ => return None,
                        });
                    }
                    "--min-ttl" => {
                        seen.once("min-ttl")?;
                        exec.min_ttl =
                            Some(crate::duration::parse_arg(&value(inline, &mut args)?).ok()?);
                    }
                    "--allow-missing" if inline.is_none() => {
                        seen.once("allow-missing")?;
                        exec.allow_missing = true;
                    }
                    _ => global_flag(&text, &mut args, &mut global, &mut seen)?,
                }
            }
            // Everything after `--` or the program is the program's, as given.
            exec.command.extend(args);
            if exec.command.is_empty() {
                return None;
            }
            Command::Exec(exec)
        }
        _ => return None,
    };
    Some(Cli { global, command })
}

/// Flags given so far (clap refuses a second one).
#[derive(Default)]
struct Seen(Vec<&'static str>);

impl Seen {
    fn once(&mut self, name: &'static str) -> Option<()> {
        if self.0.contains(&name) {
            return None;
        }
        self.0.push(name);
        Some(())
    }
}

/// `--name=value` into its two parts; `--name` alone has no inline value. Short flags other
/// than a lone `-p` or `-v` are left to clap.
fn split(arg: &str) -> Option<(&str, Option<&str>)> {
    if let Some(long) = arg.strip_prefix("--") {
        return Some(match long.find('=') {
            Some(i) => (&arg[..i + 2], Some(&long[i + 1..])),
            None => (arg, None),
        });
    }
    matches!(arg, "-p" | "-v").then_some((arg, None))
}

/// The value of a flag: inline (`--x=v`) or the next argument. Empty or dash-led values are
/// left to clap.
fn value(inline: Option<&str>, args: &mut impl Iterator<Item = OsString>) -> Option<String> {
    let v = match inline {
        Some(v) => v.to_owned(),
        None => args.next()?.into_string().ok()?,
    };
    (!v.is_empty() && !v.starts_with('-')).then_some(v)
}

fn global_flag(
    arg: &str,
    args: &mut impl Iterator<Item = OsString>,
    global: &mut Global,
    seen: &mut Seen,
) -> Option<()> {
    let (name, inline) = split(arg)?;
    match name {
        "-p" | "--profile" => {
            seen.once("profile")?;
            global.profile = Some(value(inline, args)?);
        }
        "--store" => {
            seen.once("store")?;
            global.store = Some(value(inline, args)?.parse().ok()?);
        }
        "--influxctl-config" => {
            seen.once("influxctl-config")?;
            global.influxctl_config = Some(value(inline, args)?.into());
        }
        "-v" | "--verbose" if inline.is_none() => {
            seen.once("verbose")?;
            global.verbose = true;
        }
        "--non-interactive" if inline.is_none() => {
            seen.once("non-interactive")?;
            global.non_interactive = true;
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// clap's answer, as text (the types hold no `PartialEq`).
    fn clap(args: &[&str]) -> Option<String> {
        let argv = std::iter::once("influxctl-cred").chain(args.iter().copied());
        Cli::try_parse_from(argv).ok().map(|c| format!("{c:?}"))
    }

    #[test]
    fn fast_answers_equal_claps() {
        let cases: &[&[&str]] = &[
            &["get"],
            &["get", "-p", "prod"],
            &["-p", "prod", "get"],
            &["--profile=prod", "get", "--format", "json"],
            &["get", "--format=json", "--min-ttl", "15m"],
            &["get", "--min-ttl=90s", "-v", "--non-interactive"],
            &["--store", "file", "get"],
            &["get", "--store=keyring", "--influxctl-config", "/x/config.toml"],
            &["-p", "get", "get"],
            &["helper"],
            &["-v", "helper", "--store", "file"],
            &["exec", "--", "influxctl", "database", "list"],
            &["exec", "influxctl", "--profile", "x", "--", "-v"],
            &["-p", "a", "exec", "--inject", "file", "--min-ttl", "1h", "--", "influxctl"],
            &["exec", "--allow-missing", "-p", "a", "--inject=fifo", "influxctl", "-h"],
            &["exec", "-v", "--store", "env", "--", "--help"],
            &["exec", "--", "--"],
            &["exec", "--", "sh", "-c", "influxctl database list \"$1\"", "my-script", "--config"],
            &["-p", "prod", "exec", "make", "deploy", "-p", "x"],
            &["exec", "--non-interactive", "--influxctl-config=/c", "--", "influxctl"],
        ];
        for case in cases {
            let fast = parse(os(case)).map(|c| format!("{c:?}"));
            assert!(fast.is_some(), "the fast path should take {case:?}");
            assert_eq!(fast, clap(case), "{case:?}");
        }
    }

    #[test]
    fn everything_else_is_left_to_clap() {
        let cases: &[&[&str]] = &[
            &[],
            &["--help"],
            &["-h"],
            &["--version"],
            &["-V"],
            &["help"],
            &["help", "get"],
            &["get", "--help"],
            &["get", "-h"],
            &["get", "--version"],
            &["exec", "--help"],
            &["helper", "--help"],
            &["list"],
            &["store", "-p", "x"],
            &["get", "extra"],
            &["helper", "extra"],
            &["get", "-p"],
            &["get", "-p", ""],
            &["get", "--profile="],
            &["get", "-p", "-x"],
            &["get", "-pprod"],
            &["get", "-vp", "x"],
            &["-p", "a", "get", "-p", "b"],
            &["get", "-v", "-v"],
            &["get", "--format", "yaml"],
            &["get", "--format", "json", "--format", "json"],
            &["get", "--min-ttl", "soon"],
            &["get", "--store", "memory"],
            &["get", "--verbose=yes"],
            &["get", "--unknown"],
            &["exec"],
            &["exec", "--"],
            &["exec", "--inject", "tmp", "--", "x"],
            &["exec", "--database-token", "read=db", "--", "x"],
            &["exec", "--database-token-ttl", "1h", "--", "x"],
            &["exec", "--allow-missing=1", "--", "x"],
            &["exec", "-x", "influxctl"],
            &["gets"],
        ];
        for case in cases {
            assert!(parse(os(case)).is_none(), "the fast path should leave {case:?} to clap");
        }
    }

    #[cfg(unix)]
    #[test]
    fn program_arguments_pass_as_given() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'a', 0xff, b'b']);
        let mut args = os(&["exec", "--", "influxctl"]);
        args.push(odd.clone());
        let Some(Cli { command: Command::Exec(e), .. }) = parse(args) else {
            panic!("exec should take the fast path")
        };
        assert_eq!(e.command, vec![OsString::from("influxctl"), odd.clone()]);
        // Not UTF-8 before the program: clap's to judge.
        assert!(parse(vec![OsString::from("get"), odd]).is_none());
    }
}
