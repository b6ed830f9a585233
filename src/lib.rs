//! influxctl-cred keeps InfluxDB 3 (Cloud Dedicated and Clustered) management tokens out of
//! plaintext. Tokens live encrypted — in the OS keyring ([`store::keyring`]) or in age files
//! ([`store::file`]) — or arrive from CI's environment ([`store::env`]), and are handed out only
//! after their cluster binding and expiry are checked ([`app::Vault::get`]).
//!
//! Rooms, in layers (a module imports only from layers below it; `scripts/check-layers` keeps
//! it so, and `docs/architecture.md` draws it):
//! - vocabulary: [`error`] (kinds and exit codes), [`check`] (one `doctor` line), [`ui`],
//!   [`secret`] (the token type), [`duration`], [`paths`], [`fsutil`], [`lock`], [`harden`];
//! - what is stored and read: [`entry`], [`identity`], [`settings`], [`influxctl`] (its
//!   config file, flags and output);
//! - [`store`] (the backends behind the `Store` trait) and [`api`] (the Management API client:
//!   a token and an endpoint);
//! - the driver: [`app`] (lookup, writes, binding over the stores); [`cli`] (clap definitions);
//! - actions: [`spawn`] (influxctl as a child), [`verify`], [`import`], [`shell_init`],
//!   [`lifecycle`] (`create`, `rotate`, `erase --revoke`, expiry), [`exec`];
//! - front doors: [`protocol`] and [`helper`] (the JSON Lines protocol), [`doctor`] (collects
//!   the checks), [`commands`] (one function per command).

//! # Exit codes
//!
//! | code | kind |
//! |---|---|
//! | 0 | ok |
//! | 1 | `other` |
//! | 2 | `invalid-request`, usage, `operation-not-supported`, `unsupported-version` |
//! | 3 | `not-found` |
//! | 4 | `expired` |
//! | 5 | `store-unavailable` |
//! | 6 | `interaction-required` |
//! | 7 | `cluster-mismatch` |
//! | 8 | `influxctl-failed` |
//! | 9 | `api-error` |
//! | 75 | `locked` |

// `deny`, not `forbid`: `secret::memlock` allows it, for `mlock`, `spawn::signals`, for signal
// handlers and masks, and a few more modules for system calls without a safe wrapper (each
// module says why; each use has a SAFETY note).
#![deny(unsafe_code)]

pub mod agent;
pub mod api;
pub mod app;
pub mod audit;
pub mod check;
pub mod cli;
pub mod commands;
pub mod doctor;
pub mod duration;
pub mod entry;
pub mod error;
pub mod exec;
pub mod fastpath;
pub mod fsutil;
pub mod harden;
pub mod helper;
pub mod identity;
pub mod import;
pub mod influxctl;
pub mod lifecycle;
pub mod lock;
pub mod paths;
pub mod protocol;
pub mod secret;
pub mod settings;
pub mod shell_init;
pub mod spawn;
pub mod store;
pub mod ui;
pub mod verify;
