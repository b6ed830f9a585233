//! Running influxctl as a child with a token for its life only: the derived config's placement
//! ([`place`]: a 0600 file in a fresh 0700 folder, a sealed memfd, or a FIFO), the child itself
//! with its signal forwarding and exit code ([`child`]). Shared by `exec` ([`crate::exec`]) and
//! the influxctl runs of the lifecycle commands ([`crate::lifecycle`]).

pub mod child;
#[cfg(unix)]
mod fifo;
pub mod place;
#[cfg(unix)]
mod signals;
