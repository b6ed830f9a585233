//! `shell-init bash|zsh|fish`: prints a shell function named `influxctl` that runs every
//! influxctl command through `influxctl-cred exec`, so typing `influxctl …` gets the stored
//! token. Profiles with no stored token run unchanged (`--allow-missing`), so OAuth logins keep
//! working. `command influxctl …` bypasses the function.

use crate::cli::InitShell;
use crate::error::{Error, Result};

/// The text for `shell`.
pub fn script(shell: InitShell) -> String {
    match shell {
        InitShell::Bash | InitShell::Zsh => {
            let (name, rc) = if shell == InitShell::Bash { ("bash", "~/.bashrc") } else { ("zsh", "~/.zshrc") };
            format!(
                "# influxctl through influxctl-cred: the stored token, for the life of one run.\n\
                 # Add to {rc}:  eval \"$(influxctl-cred shell-init {name})\"\n\
                 influxctl() {{\n    command influxctl-cred exec --allow-missing -- influxctl \"$@\"\n}}\n"
            )
        }
        InitShell::Fish => {
            "# influxctl through influxctl-cred: the stored token, for the life of one run.\n\
             # Add to config.fish:  influxctl-cred shell-init fish | source\n\
             function influxctl --wraps influxctl --description 'influxctl with the token from influxctl-cred'\n    \
             command influxctl-cred exec --allow-missing -- influxctl $argv\nend\n"
                .to_owned()
        }
    }
}

/// Prints the function for `shell`, or for the shell `$SHELL` names (as `setup` picks it).
pub fn run(shell: Option<InitShell>) -> Result<i32> {
    let shell = match shell {
        Some(shell) => shell,
        None => from_env(std::env::var_os("SHELL").as_deref())?,
    };
    crate::ui::stdout(script(shell).as_bytes())?;
    Ok(0)
}

/// The shell `$SHELL` names (its file name: `/usr/bin/zsh` is zsh); a usage error when it is
/// unset or not one of the three.
fn from_env(var: Option<&std::ffi::OsStr>) -> Result<InitShell> {
    let name = var
        .and_then(|v| std::path::Path::new(v).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match name {
        "bash" => Ok(InitShell::Bash),
        "zsh" => Ok(InitShell::Zsh),
        "fish" => Ok(InitShell::Fish),
        "" => Err(Error::Usage(
            "no shell named and $SHELL is not set: run `influxctl-cred shell-init bash` (or zsh, fish)"
                .into(),
        )),
        other => Err(Error::Usage(format!(
            "$SHELL is {other:?}, which shell-init does not know: name one of bash, zsh, fish (`influxctl-cred shell-init bash`)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_wraps_influxctl_in_exec() {
        for shell in [InitShell::Bash, InitShell::Zsh, InitShell::Fish] {
            let s = script(shell);
            assert!(s.contains("command influxctl-cred exec --allow-missing -- influxctl"), "{s}");
            assert!(s.starts_with("# "));
            assert!(s.contains(&format!("shell-init {}", format!("{shell:?}").to_lowercase())));
        }
        assert!(script(InitShell::Bash).contains("\"$@\""));
        assert!(script(InitShell::Fish).contains("$argv"));
    }

    #[test]
    fn shell_comes_from_the_file_name_of_shell_env() {
        let of = |v: &str| from_env(Some(std::ffi::OsStr::new(v)));
        assert_eq!(of("/usr/bin/zsh").unwrap(), InitShell::Zsh);
        assert_eq!(of("/bin/bash").unwrap(), InitShell::Bash);
        assert_eq!(of("fish").unwrap(), InitShell::Fish);
        assert_eq!(of("/bin/tcsh").unwrap_err().exit_code(), 2);
        assert_eq!(from_env(None).unwrap_err().exit_code(), 2);
    }
}
