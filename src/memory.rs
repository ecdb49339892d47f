//! Process memory housekeeping: giving freed memory back to the system after large, short-lived work
//! (an Atlas build, a batch), so the resident size reflects what is live.

/// Hands the memory that was allocated and freed back to the system. glibc keeps freed memory in its
/// per-thread arenas; after a build or a million-site batch that is tens of megabytes. Elsewhere a no-op.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // One of the crate's two unsafe blocks (unsafe_code is denied elsewhere).
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Lets the system drop the pages of `bytes`, a part of the binary's own read-only data that was read
/// once (a snapshot section, decoded): they are counted as resident until then, and come back from the
/// executable if ever read again. Only whole pages inside `bytes` are dropped. Elsewhere a no-op.
pub fn forget_pages(bytes: &'static [u8]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (bytes.as_ptr() as usize).next_multiple_of(PAGE);
        let end = (bytes.as_ptr() as usize + bytes.len()) / PAGE * PAGE;
        if end > start {
            #[allow(unsafe_code)]
            // SAFETY: the range is whole pages of a 'static, read-only, file-backed mapping (the
            // executable's data); MADV_DONTNEED on it only drops resident copies, which the kernel reads
            // back from the file on the next access, so every reference stays valid and unchanged.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}
