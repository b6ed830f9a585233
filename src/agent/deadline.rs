//! One deadline for a whole connection of the agent. A per-read timeout alone lets a peer
//! that sends one byte just inside it hold the agent (which answers one connection at a time)
//! for hours; with this, every connection ends within [`super::IO_TIMEOUT`] of its start,
//! whatever the peer does, so a stuck or slow peer delays the others by at most that.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// A connection whose reads and writes all end by `until`.
pub struct Bounded<'a> {
    conn: &'a UnixStream,
    until: Instant,
}

impl<'a> Bounded<'a> {
    pub fn new(conn: &'a UnixStream, budget: Duration) -> Bounded<'a> {
        Bounded { conn, until: Instant::now() + budget }
    }

    /// The time left, or a timed-out error once it is spent.
    fn left(&self) -> std::io::Result<Duration> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the connection's time is up",
            ));
        }
        Ok(left)
    }
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.conn.set_read_timeout(Some(self.left()?))?;
        (&mut &*self.conn).read(buf)
    }
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.conn.set_write_timeout(Some(self.left()?))?;
        (&mut &*self.conn).write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trickling_peer_is_cut_off_at_the_deadline() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let feeder = std::thread::spawn(move || {
            for _ in 0..40 {
                if theirs.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let mut bounded = Bounded::new(&ours, Duration::from_millis(150));
        let started = Instant::now();
        let mut byte = [0u8; 1];
        let err = loop {
            match bounded.read(&mut byte) {
                Ok(0) => panic!("the peer closed first"),
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert!(
            matches!(err.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock),
            "{err:?}"
        );
        // Cut off near the budget, long before the 800 ms the peer would trickle for.
        assert!(started.elapsed() < Duration::from_millis(600), "{:?}", started.elapsed());
        drop(ours);
        feeder.join().unwrap();
    }
}
