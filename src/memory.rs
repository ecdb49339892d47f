//! Process memory housekeeping: giving freed memory back to the system after large, short-lived work
//! (an Atlas build, a batch), so the resident size reflects what is live.

/// Hands the memory that was allocated and freed back to the system. glibc keeps freed memory in its
/// per-thread arenas; after a build or a million-site batch that is tens of megabytes. Elsewhere a no-op.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // The crate's one unsafe block (unsafe_code is denied elsewhere).
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
