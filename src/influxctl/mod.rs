//! Everything that touches influxctl: its config file ([`config`]), its
//! global flags ([`args`]), the configs we write ([`derive`]), and the `doctor` checks about it
//! ([`doctor`]).

pub mod args;
pub mod config;
pub mod derive;
pub mod doctor;
pub mod output;
