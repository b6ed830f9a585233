//! `mlock` of secret buffers (docs/spec.md §10.8), best effort: where `RLIMIT_MEMLOCK` allows, the
//! pages of a [`super::Token`] are kept out of swap. A failure is said once with `-v` and
//! otherwise ignored. Locks are per page and not counted: unlocking one buffer unlocks a page it
//! shares with another (tokens are small, so this is rare and only loses the swap guarantee).

#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, Ordering};

static WARNED: AtomicBool = AtomicBool::new(false);

/// Locks the `len` bytes at `ptr` into memory.
pub(super) fn lock(ptr: *const u8, len: usize) {
    if len == 0 {
        return;
    }
    #[cfg(unix)]
    {
        // SAFETY: mlock reads and writes no memory; it only asks the kernel to keep the pages
        // of this range resident. The range is the live allocation of the caller's buffer.
        let rc = unsafe { libc::mlock(ptr.cast(), len) };
        if rc != 0 && !WARNED.swap(true, Ordering::Relaxed) {
            let e = std::io::Error::last_os_error();
            crate::ui::verbose(format!(
                "cannot lock secret memory ({e}); raise `ulimit -l` to keep tokens out of swap"
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (ptr, &WARNED, Ordering::Relaxed);
}

/// Unlocks what [`lock`] locked (after the buffer was zeroized).
pub(super) fn unlock(ptr: *const u8, len: usize) {
    if len == 0 {
        return;
    }
    #[cfg(unix)]
    {
        // SAFETY: as for mlock: no memory is accessed, the range is the caller's allocation.
        let _ = unsafe { libc::munlock(ptr.cast(), len) };
    }
    #[cfg(not(unix))]
    let _ = ptr;
}
