//! The one integration-test binary: drives the real `influxctl-cred` binary in a fresh private
//! home per test. Tests that need a real external service (a Secret Service on D-Bus, the
//! reference `age` CLI, the mock Management API) are `#[ignore]`d for a bare `cargo test` and run
//! by `.ci/run`, which starts those services.

mod planted;
mod util;

mod agent;
mod api;
mod apiserver;
mod audit;
mod binding;
mod dbtoken;
#[cfg(unix)]
mod openbao;
mod prism;

mod ci_flows;
mod cli;
mod exec;
mod exec_dbtoken;
mod exec_in_place;
mod exec_nested;
mod exec_scripts;
mod exec_usage;
mod exec_windows;
mod fake_influxctl;
mod file_store;
mod full_disk;
mod helper;
#[cfg(unix)]
mod helper_session;
mod import;
mod integrity;
mod keyring;
mod keyring_locked;
mod keyring_macos;
mod keyring_windows;
mod lifecycle;
mod properties;
mod second_day;
mod setup;
mod token_ids;
mod trust;
#[cfg(unix)]
mod vault;
mod vault_failover;
mod vault_lock;
mod vault_offline;
mod vault_redirect;
