//! Read-only memory maps of files whose pages can be given back once read: page hashing (the
//! Mach-O crate's [`shenzi_macho::set_page_release`] hook) drops each run of pages it has
//! hashed, so signing or verifying a file of any size keeps only a few MiB resident. Only
//! ranges inside a map made here are ever released; the bytes stay readable (the kernel reads
//! them again from the page cache).

use std::fs::File;
use std::ops::Deref;
use std::sync::Mutex;

use memmap2::Mmap;

/// Address ranges of the live maps.
static LIVE: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// A read-only shared map of a whole file.
pub struct Map(Mmap);

/// Maps `file` read-only.
///
/// # Safety
/// As for [`Mmap::map`]: the caller must not let the file be truncated while the map lives
/// (shenzi holds the file's lock and writes it only after the map's last read for an edit).
pub unsafe fn map(file: &File) -> std::io::Result<Map> {
    // SAFETY: the caller's contract.
    let m = unsafe { Mmap::map(file) }?;
    let start = m.as_ptr() as usize;
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((start, start + m.len()));
    Ok(Map(m))
}

impl Deref for Map {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        let start = self.0.as_ptr() as usize;
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = live.iter().position(|r| r.0 == start) {
            live.swap_remove(i);
        }
    }
}

/// Drops the whole pages of `bytes` from memory if they lie in a live map; anything else is
/// left alone.
pub fn release(bytes: &[u8]) {
    let (a, b) = (
        bytes.as_ptr() as usize,
        bytes.as_ptr() as usize + bytes.len(),
    );
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !live.iter().any(|&(s, e)| s <= a && b <= e) {
        return;
    }
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as usize,
        _ => return,
    };
    let (start, end) = (a.div_ceil(page) * page, b / page * page);
    if start < end {
        // SAFETY: the range lies inside a live read-only shared file map (checked above, with
        // the lock held so it cannot be unmapped meanwhile); MADV_DONTNEED on such a map only
        // drops resident pages, which later reads fault in again from the file unchanged.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}
