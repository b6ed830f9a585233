//! A script's derived config under `--inject memfd` (Linux; docs/influxctl.md, "Scripts"): the
//! sealed memfd stays with `exec` (close-on-exec, so the script inherits nothing of it), and a
//! Unix socket in a private 0700 folder of ours hands each `influxctl` shim that connects its
//! own descriptor of it. Every caller gets the whole config, however many connect at once (a
//! FIFO shares one stream between readers that open it at the same instant).
//!
//! The server checks that the peer runs as our uid (`SO_PEERCRED`) before it sends anything;
//! the client checks the same of the server. The descriptor goes over `SCM_RIGHTS`; the shim
//! makes it inheritable for the influxctl it becomes only, and names it `/dev/fd/N`.
//!
//! A thread of `exec` serves the socket while the script runs: it is started once the signal
//! forwarder ([`super::signals`]) is installed, so it inherits the blocked signals and never
//! takes one meant for the waiting thread. It polls the socket and a pipe; dropping the
//! [`Server`] closes the pipe's write end, which ends the thread. The socket file is removed
//! with its folder ([`super::place::Derived`]); a killed `exec` leaves a socket nobody serves,
//! removed by the next script run's sweep. After `exec` returns, nothing the script's
//! processes inherited leads to the token: the socket is gone, and they never held the memfd.

#![cfg(target_os = "linux")]
// Taking ownership of the descriptors `recvmsg` installed is `unsafe`; each use has a SAFETY
// note.
#![allow(unsafe_code)]

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, getsockopt, recvmsg, sendmsg, sockopt,
};
use nix::unistd::{Uid, geteuid};

use crate::error::{Error, Result};

/// Serves a memfd on a Unix socket until dropped.
pub struct Server {
    path: PathBuf,
    /// The write end of the stop pipe: closing it ends the thread.
    stop: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds the socket at `path` (in a private folder) and serves `memfd` to peers of our uid.
    pub fn start(path: &Path, memfd: OwnedFd) -> Result<Server> {
        Server::start_for(path, memfd, geteuid())
    }

    /// [`Server::start`], serving peers of `uid` only.
    fn start_for(path: &Path, memfd: OwnedFd, uid: Uid) -> Result<Server> {
        let listener = UnixListener::bind(path).map_err(|e| bind_error(path, e))?;
        listener.set_nonblocking(true).map_err(|e| Error::io("cannot set up", path, e))?;
        let (wake, stop) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
            .map_err(|e| Error::Other(format!("cannot create a pipe: {e}")))?;
        let thread = std::thread::Builder::new()
            .name("exec-socket".into())
            .spawn(move || serve(&listener, &memfd, &wake, uid))
            .map_err(|e| Error::Other(format!("cannot start the socket thread: {e}")))?;
        Ok(Server { path: path.to_owned(), stop: Some(stop), thread: Some(thread) })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn bind_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::InvalidInput {
        // sockaddr_un holds about 107 bytes of path.
        return Error::Other(format!(
            "cannot create the socket {}: the path is too long for a Unix socket; set XDG_RUNTIME_DIR to a shorter private folder, or use --inject fifo",
            path.display()
        ));
    }
    Error::io("cannot create the socket", path, e)
}

fn serve(listener: &UnixListener, memfd: &OwnedFd, wake: &OwnedFd, uid: Uid) {
    loop {
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => {
                crate::ui::verbose(format!("the config socket stops serving: {e}"));
                return;
            }
        }
        // The write end closed (or written to): stop.
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => hand_over(&stream, memfd, uid),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => crate::ui::verbose(format!("the config socket: cannot accept: {e}")),
        }
    }
}

/// Sends `memfd` to the peer on `stream` when it runs as `uid`; else closes without a word.
fn hand_over(stream: &UnixStream, memfd: &OwnedFd, uid: Uid) {
    match getsockopt(stream, sockopt::PeerCredentials) {
        Ok(peer) if peer.uid() == uid.as_raw() => {}
        Ok(peer) => {
            crate::ui::verbose(format!(
                "the config socket refused process {} of uid {}",
                peer.pid(),
                peer.uid()
            ));
            return;
        }
        Err(e) => {
            crate::ui::verbose(format!("the config socket: cannot identify a peer: {e}"));
            return;
        }
    }
    let fds = [memfd.as_raw_fd()];
    let sent = sendmsg::<()>(
        stream.as_raw_fd(),
        &[IoSlice::new(b"c")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
        None,
    );
    if let Err(e) = sent {
        crate::ui::verbose(format!("the config socket: cannot send to a peer: {e}"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The config served on the socket at `path`: a descriptor of the sealed memfd, close-on-exec
/// (see [`inheritable`]). Refused when the server is not of our uid.
pub fn receive(path: &Path) -> std::io::Result<OwnedFd> {
    receive_within(path, RECEIVE_TIMEOUT)
}

/// How long a shim waits for the config: the live exec answers at once, so a socket that
/// stays silent is not ours (a planted one, or a server being stopped) and the call goes on
/// without the config.
const RECEIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// [`receive`] with a bound on the wait.
fn receive_within(path: &Path, timeout: std::time::Duration) -> std::io::Result<OwnedFd> {
    let stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let server = getsockopt(&stream, sockopt::PeerCredentials)?;
    if server.uid() != geteuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "it is served by uid {}, not by us",
            server.uid()
        )));
    }
    let mut byte = [0u8; 1];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [IoSliceMut::new(&mut byte)];
    let msg =
        recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)?;
    let mut received: Vec<OwnedFd> = Vec::new();
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: recvmsg just installed these descriptors in our table; nothing else
            // knows them, so each is owned here once.
            received.extend(fds.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    // More than one: not our server's doing; the extra ones close here.
    received.into_iter().next().ok_or_else(|| {
        std::io::Error::other("the exec refused this process (another uid?) or is ending")
    })
}

/// Lets `fd` pass to the program this process `execve`s (clears close-on-exec).
pub fn inheritable(fd: &OwnedFd) -> std::io::Result<()> {
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn memfd(text: &str) -> OwnedFd {
        super::super::place::sealed_memfd(text.as_bytes()).unwrap()
    }

    #[test]
    fn a_silent_socket_is_given_up_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let started = std::time::Instant::now();
        let got = receive_within(&path, std::time::Duration::from_millis(200));
        assert!(got.is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    }

    fn read_fd(fd: &OwnedFd) -> String {
        let mut s = String::new();
        std::fs::File::open(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn every_concurrent_caller_gets_the_whole_config_and_the_socket_goes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.sock");
        let server = Server::start(&path, memfd("a = 1\n")).unwrap();
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let p = path.clone();
                std::thread::spawn(move || {
                    let fd = receive(&p).unwrap();
                    let flags = fcntl(&fd, FcntlArg::F_GETFD).unwrap();
                    assert_ne!(flags & libc::FD_CLOEXEC, 0, "close-on-exec until asked");
                    inheritable(&fd).unwrap();
                    assert_eq!(fcntl(&fd, FcntlArg::F_GETFD).unwrap() & libc::FD_CLOEXEC, 0);
                    read_fd(&fd)
                })
            })
            .collect();
        for c in callers {
            assert_eq!(c.join().unwrap(), "a = 1\n");
        }
        drop(server);
        assert!(!path.exists());
        assert!(receive(&path).is_err());
    }

    #[test]
    fn a_peer_of_another_uid_gets_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.sock");
        let other = Uid::from_raw(geteuid().as_raw().wrapping_add(1));
        let server = Server::start_for(&path, memfd("a = 1\n"), other).unwrap();
        let err = receive(&path).unwrap_err();
        assert!(err.to_string().contains("refused"), "{err}");
        drop(server);
    }
}
