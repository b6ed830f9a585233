//! `--inject fifo`: the derived config as a named pipe that holds no bytes on disk. A thread
//! waits for a reader to open the pipe, writes the whole config to it and closes it, so the
//! reader sees the content and then end-of-file; then it waits for the next reader, until the
//! run ends.
//!
//! Each reader gets its own pipe: as soon as one opens the path, a fresh FIFO is renamed over
//! it, so the reader keeps the old one to itself and a later reader can never be handed the
//! tail of an earlier write. (Two readers that open the path at the very same moment share one
//! pipe; influxctl reads its config once.)

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use nix::sys::stat::Mode;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// More than a pipe holds without a reader draining it; a config this large would make the
/// writer wait on a reader that stopped reading.
const MAX_LEN: usize = 60 * 1024;

/// Serves the content on the FIFO at `path` until dropped; the FIFO is removed then.
pub struct FifoServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FifoServer {
    /// Creates the FIFO (0600) and starts serving.
    pub fn start(path: &Path, content: Zeroizing<String>) -> Result<FifoServer> {
        if content.len() > MAX_LEN {
            return Err(Error::OperationNotSupported(
                "--inject fifo for a config larger than 60 KiB; use --inject file".into(),
            ));
        }
        make_fifo(path)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (path.to_owned(), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("exec-fifo".into())
            .spawn(move || serve(&p, content.as_bytes(), &s))
            .map_err(|e| Error::Other(format!("cannot start the FIFO thread: {e}")))?;
        Ok(FifoServer { path: path.to_owned(), stop, thread: Some(thread) })
    }
}

fn make_fifo(path: &Path) -> Result<()> {
    nix::unistd::mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR)
        .map_err(|e| Error::io("cannot create the FIFO", path, e.into()))
}

fn serve(path: &Path, content: &[u8], stop: &AtomicBool) {
    let next = path.with_extension("next");
    while !stop.load(Ordering::SeqCst) {
        // Blocks until a reader opens the pipe (or the server is stopped, which opens it).
        let Ok(mut pipe) = OpenOptions::new().write(true).open(path) else { return };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let renewed = make_fifo(&next).is_ok() && std::fs::rename(&next, path).is_ok();
        // A reader that goes away early only makes this write fail (EPIPE; SIGPIPE is ignored).
        let _ = pipe.write_all(content);
        drop(pipe);
        if !renewed {
            crate::ui::verbose("cannot renew the FIFO; it serves no further reader");
            return;
        }
    }
}

impl Drop for FifoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Opening for reading without blocking wakes the thread if it waits for a reader.
        let waker = {
            use std::os::unix::fs::OpenOptionsExt;
            OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&self.path)
        };
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        drop(waker);
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(self.path.with_extension("next"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn fifo_serves_every_reader_in_turn_and_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let server = FifoServer::start(&path, Zeroizing::new("a = 1\n".into())).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&path).unwrap().file_type().is_fifo());
        for _ in 0..3 {
            let mut s = String::new();
            std::fs::File::open(&path).unwrap().read_to_string(&mut s).unwrap();
            assert_eq!(s, "a = 1\n");
        }
        drop(server);
        assert!(!path.exists());
    }

    #[test]
    fn fifo_without_reader_stops_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        drop(FifoServer::start(&path, Zeroizing::new("a = 1\n".into())).unwrap());
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
