//! Everything that touches influxctl: its config file ([`config`]), its
//! global flags ([`args`]), the configs we write ([`derive`]), its output ([`output`]) and the
//! TLS options of a profile ([`tls`]).

pub mod args;
pub mod config;
pub mod derive;
pub mod output;
pub mod tls;
