//! Who is at the other end of a Unix socket: `SO_PEERCRED` on Linux, `getpeereid` on macOS and
//! the BSDs. The agent answers only peers of its own uid; the client talks only to an agent of
//! its own uid.

#![allow(unsafe_code)]

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

/// The effective uid of the process at the other end of `stream`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    let mut cred = libc::ucred { pid: 0, uid: u32::MAX, gid: u32::MAX };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are live locals of the size and type SO_PEERCRED writes (a
    // `struct ucred`); the fd is open for the life of `stream`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if len as usize != std::mem::size_of::<libc::ucred>() {
        return Err(std::io::Error::other("SO_PEERCRED answered a short struct"));
    }
    Ok(cred.uid)
}

/// The effective uid of the process at the other end of `stream`.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
pub fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    let (mut uid, mut gid): (libc::uid_t, libc::gid_t) = (libc::uid_t::MAX, libc::gid_t::MAX);
    // SAFETY: `uid` and `gid` are live locals that getpeereid writes; the fd is open for the
    // life of `stream`.
    let rc = unsafe { libc::getpeereid(stream.as_raw_fd(), &raw mut uid, &raw mut gid) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(uid)
}

/// Elsewhere the peer cannot be known, so nobody is answered.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)))]
pub fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    let _ = stream.as_raw_fd();
    Err(std::io::Error::other("no way to learn a socket peer's uid on this system"))
}

/// Our own effective uid.
pub fn own_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}
