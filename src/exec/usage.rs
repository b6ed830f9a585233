//! A PROGRAM that looks like one of exec's own flags (docs/influxctl.md, "Usage errors"):
//! `exec -pstaging -- influxctl …` or `exec --injet file -- influxctl …` hand clap a first
//! value that begins with `-`, which it takes as PROGRAM. Such a PROGRAM is a usage error
//! before any store is opened, with the flag it most likely meant.

use std::ffi::OsStr;

use crate::error::{Error, Result};

/// exec's own flags (its own and the global ones), long and short.
const FLAGS: &[&str] = &[
    "--inject",
    "--min-ttl",
    "--allow-missing",
    "--database-token",
    "--database-token-ttl",
    "--profile",
    "--store",
    "--influxctl-config",
    "--verbose",
    "--non-interactive",
    "-p",
    "-v",
];

/// Whether a command line (without the program name) is an `exec`: its first word that is
/// not a global flag or a global flag's value. Usage errors of `exec` exit 125, as its other
/// failures before the program runs (`env`, `timeout`); other commands' exit 2.
pub fn is_exec(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        match arg.as_str() {
            "-p" | "--profile" | "--store" | "--influxctl-config" => {
                args.next();
            }
            a if a.starts_with('-') => {}
            a => return a == "exec",
        }
    }
    false
}

/// Refuses a PROGRAM that begins with `-`.
pub fn check_program(program: &OsStr) -> Result<()> {
    let text = program.to_string_lossy();
    if !text.starts_with('-') {
        return Ok(());
    }
    let hint = match suggest(&text) {
        Some(s) => format!(
            "; did you mean {s}? (exec's own options go before `--`, each value as a word of its own)"
        ),
        None => format!("; to run a program of that name, write ./{text}"),
    };
    Err(Error::Usage(format!("PROGRAM {text:?} begins with `-`: it is not a program{hint}")))
}

/// The flag `arg` most likely meant, as the user should write it.
fn suggest(arg: &str) -> Option<String> {
    let (name, value) = match arg.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (arg, None),
    };
    // `-pstaging`: the short flag with its value glued on.
    if let Some(v) = name.strip_prefix("-p").filter(|v| !v.is_empty() && !v.starts_with('-')) {
        return Some(format!("`-p {v}`"));
    }
    let best = FLAGS
        .iter()
        .filter(|f| f.starts_with("--"))
        .map(|f| (distance(name, f), *f))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, f)| *d <= 2.max(f.len() / 4))?;
    Some(match value {
        Some(v) => format!("`{}={v}`", best.1),
        None => format!("`{}`", best.1),
    })
}

/// Levenshtein distance (short ASCII flag names only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: &str) -> String {
        check_program(OsStr::new(p)).unwrap_err().to_string()
    }

    #[test]
    fn a_program_that_looks_like_a_flag_is_refused_with_the_near_flag() {
        assert!(check_program(OsStr::new("influxctl")).is_ok());
        assert!(check_program(OsStr::new("./-x")).is_ok());
        assert!(err("-pstaging").contains("`-p staging`"), "{}", err("-pstaging"));
        assert!(err("--injet").contains("`--inject`"), "{}", err("--injet"));
        assert!(err("--min-tll=30d").contains("`--min-ttl=30d`"), "{}", err("--min-tll=30d"));
        assert!(err("--stor").contains("`--store`"));
        assert!(err("--frobnicate-everything").contains("./--frobnicate-everything"));
        assert_eq!(
            check_program(OsStr::new("-x")).unwrap_err().kind(),
            crate::error::ErrorKind::InvalidRequest
        );
    }

    #[test]
    fn is_exec_finds_the_subcommand_after_global_flags() {
        let t = |a: &[&str]| is_exec(a.iter().map(std::ffi::OsString::from));
        assert!(t(&["exec", "--injet", "x"]));
        assert!(t(&["-p", "exec", "exec"]));
        assert!(t(&["--store", "file", "-v", "exec"]));
        assert!(t(&["--profile=prod", "exec"]));
        assert!(!t(&["-p", "exec", "get"]));
        assert!(!t(&["get", "exec"]));
        assert!(!t(&["--bogus"]));
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("--injet", "--inject"), 1);
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("", "ab"), 2);
    }
}
