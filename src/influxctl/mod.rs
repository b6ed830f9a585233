//! Everything that touches influxctl: its config file ([`config`]).

pub mod config;
