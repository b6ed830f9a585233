//! The binary: parse, run, exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use influxctl_cred::cli::Cli;

fn main() -> ExitCode {
    // Started as the `influxctl` shim of an exec'd script: the real influxctl, nothing else.
    if let Some(code) = influxctl_cred::exec::shim::run_if_shim() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    influxctl_cred::harden::apply();
    influxctl_cred::commands::install_panic_hook();
    // `get`, `exec` and `helper` without clap (src/fastpath.rs); clap for everything else.
    let parsed = influxctl_cred::fastpath::parse_env().map_or_else(Cli::try_parse, Ok);
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(influxctl_cred::commands::report_usage(e)),
    };
    let code = match influxctl_cred::commands::run(cli) {
        Ok(code) => code,
        // Whoever read our stdout has gone (`| head`): nothing left to say (as ripgrep).
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            influxctl_cred::ui::report(&e);
            e.exit_code()
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
