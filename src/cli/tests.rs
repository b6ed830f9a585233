//! The command line's own rules: clap's consistency, and what every `--help` promises.

use super::*;
use clap::CommandFactory;

#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_command_has_examples_in_its_long_help() {
    for mut sub in Cli::command().get_subcommands().cloned() {
        if sub.get_name() == "help" {
            continue;
        }
        let long = sub.render_long_help().to_string();
        // A heading, then at least one indented command line that runs us.
        let examples = long.split_once("\nExamples:\n").map(|(_, e)| e).unwrap_or("");
        assert!(
            examples.starts_with("  ") && examples.contains("influxctl-cred "),
            "{} has no examples:\n{long}",
            sub.get_name()
        );
    }
}

#[test]
fn exec_and_get_help_list_their_exit_codes() {
    let mut cmd = Cli::command();
    let exec = cmd.find_subcommand_mut("exec").unwrap().render_long_help().to_string();
    for code in [
        "128+N",
        "125",
        "126",
        "127",
        "the program's own code",
        "memfd",
        "fifo",
        "INFLUXCTL_CRED_CONFIG",
        "shim",
    ] {
        assert!(exec.contains(code), "exec --help lacks {code}");
    }
    let get = cmd.find_subcommand_mut("get").unwrap().render_long_help().to_string();
    for code in [
        "0  ",
        "3  not-found",
        "4  expired",
        "5  store-unavailable",
        "6  interaction-required",
        "7  cluster-mismatch",
    ] {
        assert!(get.contains(code), "get --help lacks {code}");
    }
}

/// Every command's long help has an `Exit codes` section naming 0 and its usage-error code:
/// 2, except `exec`, whose own failures (usage errors included) exit 125. None points at a
/// file an installed binary does not come with (docs/…).
#[test]
fn every_command_lists_its_exit_codes_and_no_docs_file() {
    let mut top = Cli::command();
    let long = top.render_long_help().to_string();
    assert!(long.contains("Exit codes") && long.contains("125"), "{long}");
    assert!(long.contains("man influxctl-cred"), "{long}");
    for mut sub in Cli::command().get_subcommands().cloned() {
        let name = sub.get_name().to_owned();
        if name == "help" {
            continue;
        }
        let long = sub.render_long_help().to_string();
        let codes = long.split_once("Exit codes").map(|(_, c)| c).unwrap_or("");
        let codes = codes.split("\nExamples:").next().unwrap_or("");
        let expected = match name.as_str() {
            "exec" => ["the program's own code", "125 "],
            _ => ["0 ", "2 "],
        };
        for code in expected {
            let listed =
                codes.split(['\n', ';', ':']).any(|item| item.trim_start().starts_with(code));
            assert!(listed, "{name} --help lists no exit code {code:?}:\n{long}");
        }
        assert!(!long.contains("docs/"), "{name} --help points at a docs/ file:\n{long}");
    }
}
