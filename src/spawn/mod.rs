//! Running influxctl as a child with a token for its life only: the derived config's placement
//! ([`place`]: a 0600 file in a fresh 0700 folder, a sealed memfd, or a FIFO; a script's memfd served on a socket, [`served`]), the child itself
//! with its signal forwarding and exit code ([`child`]), the `influxctl` shim's folder for a
//! script ([`shim_dir`]), and `exec` in place of a child ([`replace`], Linux). Shared by `exec`
//! ([`crate::exec`]) and the influxctl runs of the lifecycle commands ([`crate::lifecycle`]).

pub mod child;
#[cfg(unix)]
mod fifo;
pub mod place;
#[cfg(target_os = "linux")]
pub mod replace;
#[cfg(target_os = "linux")]
pub mod served;
pub mod shim_dir;
#[cfg(unix)]
mod signals;
