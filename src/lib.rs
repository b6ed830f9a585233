//! influxctl-cred keeps InfluxDB 3 (Cloud Dedicated and Clustered) management tokens out of
//! plaintext. Tokens live encrypted — in the OS keyring ([`store::keyring`]) or in age files
//! ([`store::file`]) — or arrive from CI's environment ([`store::env`]), and are handed out only
//! after their cluster binding and expiry are checked ([`app::Vault::get`]).
//!
//! Rooms: [`cli`] (clap definitions), [`commands`] (one function per command), [`app`] (the
//! driver over the stores), [`store`] (the backends), [`entry`] (what is stored), [`secret`]
//! (the token type), [`error`] (kinds and exit codes), [`helper`] and [`protocol`] (the JSON
//! Lines protocol), [`influxctl`] (its config file), [`settings`], [`paths`], [`fsutil`],
//! [`lock`], [`api`] (the Management API: `verify`, ephemeral database tokens).
//! Running influxctl: [`exec`] (the token for one process), [`import`] (plaintext tokens out of
//! its config), [`shell_init`] (a shell function around `exec`), [`lifecycle`] (`create`,
//! `rotate`, `erase --revoke`, expiry and auto-rotation).
//!
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

// `deny`, not `forbid`: `secret::memlock` alone allows it, for `mlock` (each use has a SAFETY note).
#![deny(unsafe_code)]

pub mod api;
pub mod app;
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
pub mod store;
pub mod ui;
