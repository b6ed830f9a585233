//! `shell-init bash|zsh|fish`: prints a shell function named `influxctl` that runs every
//! influxctl command through `influxctl-cred exec`, so typing `influxctl …` gets the stored
//! token. Profiles with no stored token run unchanged (`--allow-missing`), so OAuth logins keep
//! working. `command influxctl …` bypasses the function.

use crate::cli::InitShell;
use crate::error::Result;

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

/// Prints the function.
pub fn run(shell: InitShell) -> Result<i32> {
    crate::ui::stdout(script(shell).as_bytes())?;
    Ok(0)
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
}
