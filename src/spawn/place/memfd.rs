//! `--inject memfd`: the sealed memory file that holds the derived config (Linux).

#![cfg(target_os = "linux")]

use std::io::Write;
use std::os::fd::OwnedFd;

use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};

use crate::error::{Error, Result};

/// A memfd holding `bytes`, sealed against writes, growth, shrinking and further seals.
/// Not close-on-exec unless `cloexec`: a child inherits it then.
pub fn sealed(bytes: &[u8], cloexec: bool) -> Result<OwnedFd> {
    let fail = |what: &str, e: std::io::Error| {
        Error::Other(format!("--inject memfd: cannot {what} the memory file: {e}"))
    };
    let mut flags = MFdFlags::MFD_ALLOW_SEALING;
    if cloexec {
        flags |= MFdFlags::MFD_CLOEXEC;
    }
    let fd = memfd_create(c"influxctl-cred-config", flags).map_err(|e| fail("create", e.into()))?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes).map_err(|e| fail("write", e))?;
    let seals = SealFlag::F_SEAL_WRITE
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_SEAL;
    fcntl(&file, FcntlArg::F_ADD_SEALS(seals)).map_err(|e| fail("seal", e.into()))?;
    Ok(OwnedFd::from(file))
}
