//! Answers the ELF engine's questions about the file system: does this directory hold that
//! library, built for the same machine (shrink-rpath)? Can this path be read, does it exist (the
//! resolution cache)?

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

pub struct FsProbe;

impl shenzi_elf::LibraryProbe for FsProbe {
    fn has_library(&self, dir: &[u8], name: &[u8], machine: u16) -> bool {
        let mut p = PathBuf::from(std::ffi::OsStr::from_bytes(dir));
        p.push(std::ffi::OsStr::from_bytes(name));
        let mut head = [0u8; 64];
        let Ok(mut f) = std::fs::File::open(&p) else {
            return false;
        };
        let Ok(n) = f.read(&mut head) else {
            return false;
        };
        shenzi_elf::peek(&head[..n]).is_some_and(|id| id.machine == machine)
    }

    fn readable(&self, path: &[u8]) -> bool {
        let Ok(c) = std::ffi::CString::new(path) else {
            return false;
        };
        // SAFETY: access() on a NUL-terminated path.
        unsafe { libc::access(c.as_ptr(), libc::R_OK) == 0 }
    }

    fn exists(&self, path: &[u8]) -> bool {
        std::path::Path::new(std::ffi::OsStr::from_bytes(path)).exists()
    }
}
