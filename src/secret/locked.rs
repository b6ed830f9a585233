//! [`LockedBytes`]: a secret byte buffer that stays `mlock`ed for its whole life (the agent's
//! unlocked identities), zeroized before it is unlocked and freed.

use zeroize::Zeroize;

use super::memlock;

/// Secret bytes in memory that is locked (best effort, as for [`super::Token`]) and zeroized
/// when dropped. Its size is fixed when made, so the buffer never moves or grows.
pub struct LockedBytes(Vec<u8>);

impl LockedBytes {
    /// Copies `bytes` into a fresh locked buffer of exactly that size.
    pub fn copy_of(bytes: &[u8]) -> LockedBytes {
        let mut buf = Vec::with_capacity(bytes.len());
        memlock::lock(buf.as_ptr(), buf.capacity());
        buf.extend_from_slice(bytes);
        LockedBytes(buf)
    }

    /// The secret itself.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for LockedBytes {
    fn drop(&mut self) {
        self.0.zeroize();
        memlock::unlock(self.0.as_ptr(), self.0.capacity());
    }
}

impl std::fmt::Debug for LockedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LockedBytes([redacted; {}])", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_bytes_are_kept() {
        let held = LockedBytes::copy_of(b"AGE-SECRET-KEY-1TEST");
        assert_eq!(held.expose(), b"AGE-SECRET-KEY-1TEST");
        let shown = format!("{held:?}");
        assert!(!shown.contains("SECRET") && shown.contains("20"), "{shown}");
    }
}
