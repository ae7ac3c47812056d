//! Safe writes. After any shenzi command a file holds either its old content or its complete new
//! content, never a mix, and on any error the input is byte-identical.
//!
//! Two ways to get there:
//! - **Journaled in place** (an edit of the file itself): the original bytes of every range about
//!   to change, and the old length, go to an undo journal beside the file (fsync'd) before the
//!   file is touched; the new bytes are written, the result is verified, and the journal removed.
//!   If the process dies in between, the next shenzi run that opens the file restores it from the
//!   journal. This keeps a one-rpath edit of a 256 MiB library at a few kilobytes of I/O.
//! - **Replace** (`--output`, whole-file rewrites, or a running executable that cannot be opened
//!   for writing): a temporary file in the target's directory, fsync, verify, rename over the
//!   target. Temporary files left by killed runs are removed by later runs. A rewrite given as
//!   runs of the input and new bytes ([`Run`]) is written without reading the input into
//!   memory (`copy_file_range`), and the disk flush overlaps the verification.
//!
//! Symlinks are followed: the target of the link is edited and the link stays a link.
//!
//! Only regular files are replaced by rename. What an output path names decides how it is
//! written ([`dest`], the one place that decides it):
//! - a regular file, or nothing yet in an existing directory: replaced as above;
//! - a character device or a FIFO (`/dev/null`, a named pipe): written through, the way
//!   `patchelf` does: opened for writing without creating or truncating, the complete bytes
//!   written, nothing renamed, unlinked or chmod'ed. The content is verified in memory or in a
//!   temporary file before the first byte goes out. Opening a FIFO waits for its reader;
//! - anything else (a directory, a block device, a socket) is refused, as is a path whose
//!   directory does not exist.
//!
//! Inputs must be regular files ([`open`] refuses anything else).
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek as _, Write as _};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::mapped::{self, Map};
use anyhow::{anyhow, bail, Context, Result};

/// A file opened for editing: its real path and a read-only view of its bytes.
pub struct Input {
    pub real: PathBuf,
    map: Option<Map>,
    /// Holds an exclusive `flock` on the file for as long as the edit lasts, so concurrent
    /// shenzi runs on one file take turns; unchanged runs of a rewrite are copied from it.
    file: File,
}

impl Input {
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// Maps `path` (after restoring it from any journal an interrupted run left).
pub fn open(path: &Path) -> Result<Input> {
    let real =
        fs::canonicalize(path).with_context(|| format!("{}: cannot open", path.display()))?;
    // Only regular files are inputs. Look before opening: opening a FIFO waits for a writer and
    // opening a device can have effects of its own.
    let not_regular = |k: Kind| anyhow!("{}: is {k}, not a regular file", path.display());
    match kind(&real) {
        Ok(Some(Kind::Regular)) => {}
        Ok(Some(k)) => return Err(not_regular(k)),
        Ok(None) => bail!("{}: cannot open: no such file", path.display()),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot open", path.display())),
    }
    // Lock, then make sure the path still names the locked file (another run may have replaced
    // it while we waited).
    let file = loop {
        // Non-blocking, so a FIFO put there meanwhile is refused below instead of waited on.
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&real)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        let k = Kind::of(
            file.metadata()
                .with_context(|| format!("{}: cannot stat", path.display()))?
                .file_type(),
        );
        if k != Kind::Regular {
            return Err(not_regular(k));
        }
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) } != 0 {
            bail!(
                "{}: cannot lock: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
        }
        let meta = file
            .metadata()
            .with_context(|| format!("{}: cannot stat", path.display()))?;
        match fs::metadata(&real) {
            Ok(now) if now.ino() == meta.ino() && now.dev() == meta.dev() => break file,
            _ => continue,
        }
    };
    recover(&real)?;
    // Under the lock no other shenzi writes this file's own temporary: one left here is stale.
    let _ = fs::remove_file(own_temp(&real));
    let meta = file.metadata()?;
    // SAFETY: the map is read-only; shenzi writes this file only through the journal below, after
    // every read of the map for that edit has happened.
    let map = if meta.len() == 0 {
        None
    } else {
        Some(
            unsafe { mapped::map(&file) }
                .with_context(|| format!("{}: cannot map", path.display()))?,
        )
    };
    Ok(Input { real, map, file })
}

/// What to do to a file.
pub enum Change<'a> {
    /// Write these ranges and set this length.
    Patch {
        new_len: u64,
        writes: Vec<(u64, &'a [u8])>,
    },
    /// Replace the whole content with these runs, in order.
    Runs(Vec<Run<'a>>),
}

impl<'a> Change<'a> {
    /// Replace the whole content with `bytes`.
    pub fn whole(bytes: &'a [u8]) -> Change<'a> {
        Change::Runs(vec![Run::Bytes(bytes)])
    }
}

/// One run of a file's new content.
pub enum Run<'a> {
    /// The input's bytes `[offset, offset + len)`, copied file to file by the kernel (never
    /// read into this process when the file system can do that).
    Input { offset: u64, len: u64 },
    /// New bytes.
    Bytes(&'a [u8]),
    /// Zero bytes.
    Zeros(u64),
}

/// Checks the bytes that would replace the file; an error aborts the write.
pub type Verify<'v> = &'v dyn Fn(&[u8]) -> Result<()>;

/// Applies `change` to `input` (or writes the result to `output`), verified, crash-safe.
pub fn commit(input: Input, change: Change, output: Option<&Path>, verify: Verify) -> Result<()> {
    match (output, &change) {
        (None, Change::Patch { new_len, writes }) => {
            if writes.is_empty() && *new_len == input.bytes().len() as u64 {
                return Ok(());
            }
            match in_place(&input, *new_len, writes, verify) {
                Err(e) if is_text_busy(&e) => replace(&input, &input.real.clone(), change, verify),
                r => r,
            }
        }
        (None, Change::Runs(_)) => replace(&input, &input.real.clone(), change, verify),
        (Some(out), _) => match dest(out)? {
            Dest::Replace(target) => replace(&input, &target, change, verify),
            Dest::Through(target) => through(&input, &change, &target, verify),
        },
    }
}

/// The kind of node a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    Other,
}

impl Kind {
    fn of(t: fs::FileType) -> Kind {
        if t.is_file() {
            Kind::Regular
        } else if t.is_dir() {
            Kind::Directory
        } else if t.is_char_device() {
            Kind::CharDevice
        } else if t.is_block_device() {
            Kind::BlockDevice
        } else if t.is_fifo() {
            Kind::Fifo
        } else if t.is_socket() {
            Kind::Socket
        } else {
            Kind::Other
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Regular => "a regular file",
            Kind::Directory => "a directory",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Fifo => "a FIFO",
            Kind::Socket => "a socket",
            Kind::Other => "a special file of unknown kind",
        })
    }
}

/// What `path` names once symlinks are followed; `None` when nothing is there (or a symlink
/// points nowhere).
pub fn kind(path: &Path) -> std::io::Result<Option<Kind>> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some(Kind::of(m.file_type()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// How an output path is written.
#[derive(Debug, PartialEq, Eq)]
pub enum Dest {
    /// A regular file (its real path), or a new file in an existing directory: replaced by
    /// rename.
    Replace(PathBuf),
    /// A character device or FIFO (as given; opening follows symlinks): written through, never
    /// replaced.
    Through(PathBuf),
}

/// Decides how the output `path` is written, or refuses it (the rule is in the module comment).
pub fn dest(path: &Path) -> Result<Dest> {
    match kind(path) {
        Ok(Some(Kind::Regular)) => Ok(Dest::Replace(
            fs::canonicalize(path).with_context(|| format!("{}: cannot open", path.display()))?,
        )),
        Ok(Some(Kind::CharDevice | Kind::Fifo)) => Ok(Dest::Through(path.to_path_buf())),
        Ok(Some(Kind::Directory)) => {
            bail!(
                "{}: is a directory; the output must be a file",
                path.display()
            )
        }
        Ok(Some(k)) => bail!(
            "{}: is {k}; an output can only be a regular file, a character device or a FIFO",
            path.display()
        ),
        Ok(None) => new_file(path),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => new_file(path),
        Err(e) => Err(e).with_context(|| format!("{}: cannot stat", path.display())),
    }
}

/// A path with nothing at it yet: created if its directory exists. A dangling symlink is kept:
/// the file is created where it points.
fn new_file(path: &Path) -> Result<Dest> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&path)
                    .with_context(|| format!("{}: cannot read the link", path.display()))?;
                path = dir_of(&path).join(target);
            }
            _ => break,
        }
    }
    let path = path.as_path();
    match kind(dir_of(path)) {
        Ok(Some(Kind::Directory)) => Ok(Dest::Replace(path.to_path_buf())),
        _ => Err(cannot_create(path)),
    }
}

/// Why nothing can be created at `path`: the nearest existing folder on its way is not a
/// directory, or its directory does not exist.
pub fn cannot_create(path: &Path) -> anyhow::Error {
    let dir = dir_of(path);
    for a in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        match kind(a) {
            Ok(Some(Kind::Directory)) => break,
            Ok(Some(k)) => {
                return anyhow!(
                    "{}: cannot create: {} is {k}, not a directory",
                    path.display(),
                    a.display()
                )
            }
            Ok(None) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {}
            Err(e) => {
                return anyhow::Error::new(e).context(format!(
                    "{}: cannot create: {}",
                    path.display(),
                    a.display()
                ))
            }
        }
    }
    anyhow!(
        "{}: cannot create: the directory {} does not exist",
        path.display(),
        dir.display()
    )
}

/// The directory `path` is in (`.` for a bare name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Writes a new file at `path` with what `fill` writes, all or nothing: a regular file is
/// replaced by rename; a character device or FIFO gets the content once `fill` has produced all
/// of it (in an anonymous temporary file). `mode` sets the permissions of a new or replaced
/// file exactly; `None` gives 0o666 minus the umask.
pub fn write_new(
    path: &Path,
    mode: Option<u32>,
    fill: &mut dyn FnMut(&mut File) -> Result<()>,
) -> Result<()> {
    match dest(path)? {
        Dest::Replace(target) => {
            let temp = output_temp(&target);
            let result = (|| -> Result<()> {
                let mut f = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o666)
                    .open(&temp)
                    .with_context(|| format!("{}: cannot create", temp.display()))?;
                if let Some(m) = mode {
                    f.set_permissions(fs::Permissions::from_mode(m))?;
                }
                fill(&mut f).with_context(|| format!("{}: cannot write", target.display()))?;
                f.sync_all()
                    .with_context(|| format!("{}: cannot sync", temp.display()))?;
                install(&temp, &target)
            })();
            if result.is_err() {
                fs::remove_file(&temp).ok();
            }
            result
        }
        Dest::Through(target) => {
            let mut temp = tempfile::tempfile().context("cannot create a temporary file")?;
            fill(&mut temp).with_context(|| format!("{}: cannot write", target.display()))?;
            temp.rewind()?;
            let mut f = open_through(&target)?;
            std::io::copy(&mut temp, &mut f)
                .with_context(|| format!("{}: write failed", target.display()))?;
            sync_through(&target, &f)
        }
    }
}

/// Builds the complete result in an anonymous temporary file and verifies it there, then
/// writes it through the device or FIFO `target`.
fn through(input: &Input, change: &Change, target: &Path, verify: Verify) -> Result<()> {
    let mut temp = tempfile::tempfile().context("cannot create a temporary file")?;
    write_change(input, change, &temp).context("cannot write a temporary file")?;
    {
        // SAFETY: read-only map of our own anonymous temporary file.
        let map = unsafe { mapped::map(&temp) }?;
        verify(&map)?;
    }
    temp.rewind()?;
    let mut f = open_through(target)?;
    std::io::copy(&mut temp, &mut f)
        .with_context(|| format!("{}: write failed", target.display()))?;
    sync_through(target, &f)
}

/// Writes the content `change` gives the input into the empty file `out`.
fn write_change(input: &Input, change: &Change, out: &File) -> Result<()> {
    match change {
        Change::Runs(runs) => write_runs(input, runs, out),
        Change::Patch { new_len, writes } => {
            let all = [Run::Input {
                offset: 0,
                len: input.bytes().len() as u64,
            }];
            write_runs(input, &all, out)?;
            for (off, bytes) in writes {
                out.write_all_at(bytes, *off)?;
            }
            // Bytes written past the new length are cut off.
            out.set_len(*new_len)?;
            Ok(())
        }
    }
}

/// Writes `runs` into the empty file `out`, from its start.
fn write_runs(input: &Input, runs: &[Run], out: &File) -> Result<()> {
    static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
    let mut pos = 0u64;
    for r in runs {
        match r {
            Run::Input { offset, len } => copy_input(input, *offset, *len, out, pos)?,
            Run::Bytes(b) => out.write_all_at(b, pos)?,
            Run::Zeros(n) => {
                let mut done = 0;
                while done < *n {
                    let k = (*n - done).min(ZEROS.len() as u64);
                    out.write_all_at(&ZEROS[..k as usize], pos + done)?;
                    done += k;
                }
            }
        }
        pos += match r {
            Run::Input { len, .. } | Run::Zeros(len) => *len,
            Run::Bytes(b) => b.len() as u64,
        };
    }
    out.set_len(pos)?;
    Ok(())
}

/// Copies the input's bytes `[offset, offset + len)` to `out` at `at`: by `copy_file_range`
/// (the kernel copies, or shares the blocks), or from the map, 4 MiB at a time, each run given
/// back once written, where the file systems cannot.
fn copy_input(input: &Input, offset: u64, len: u64, out: &File, at: u64) -> Result<()> {
    let end = offset
        .checked_add(len)
        .filter(|&e| e <= input.bytes().len() as u64)
        .ok_or_else(|| anyhow!("a run of the input lies past its end"))?;
    let (mut from, mut to) = (offset, at);
    kernel_copy(input, &mut from, out, &mut to, end)?;
    const CHUNK: u64 = 4 << 20;
    while from < end {
        let e = (from + CHUNK).min(end);
        let bytes = &input.bytes()[from as usize..e as usize];
        out.write_all_at(bytes, to)?;
        mapped::release(bytes);
        to += e - from;
        from = e;
    }
    Ok(())
}

/// Copies the input's bytes from `*from` up to `end` to `out` at `*to` with `copy_file_range`,
/// advancing both, until done or until the file systems cannot (the caller copies the rest).
#[cfg(target_os = "linux")]
fn kernel_copy(input: &Input, from: &mut u64, out: &File, to: &mut u64, end: u64) -> Result<()> {
    use std::os::fd::AsRawFd;
    while *from < end {
        let want = usize::try_from(end - *from)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        let (mut f, mut t) = (*from as i64, *to as i64);
        // The system call itself: the glibc wrapper is newer than the oldest glibc shenzi's
        // wheels run on (2.17). Kernels without it say ENOSYS, handled below.
        // SAFETY: both descriptors are open files we own; the offsets are our own variables.
        let n = unsafe {
            libc::syscall(
                libc::SYS_copy_file_range,
                input.file.as_raw_fd(),
                &mut f as *mut i64,
                out.as_raw_fd(),
                &mut t as *mut i64,
                want,
                0u32,
            )
        };
        if n > 0 {
            *from += n as u64;
            *to += n as u64;
            continue;
        }
        if n == 0 {
            bail!(
                "{}: the file got shorter while it was read",
                input.real.display()
            );
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(
                libc::EXDEV
                | libc::EINVAL
                | libc::ENOSYS
                | libc::EOPNOTSUPP
                | libc::EPERM
                | libc::EBADF,
            ) => break,
            _ => return Err(e.into()),
        }
    }
    Ok(())
}

/// Elsewhere every byte goes through the map.
#[cfg(not(target_os = "linux"))]
fn kernel_copy(_: &Input, _: &mut u64, _: &File, _: &mut u64, _: u64) -> Result<()> {
    Ok(())
}

/// Opens a character device or FIFO for writing: no create, no truncate. Waits for a FIFO's
/// reader.
fn open_through(path: &Path) -> Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)
        .with_context(|| format!("{}: cannot open for writing", path.display()))?;
    // What `dest` saw may have been replaced since; write into nothing else.
    let k = Kind::of(
        f.metadata()
            .with_context(|| format!("{}: cannot stat", path.display()))?
            .file_type(),
    );
    if !matches!(k, Kind::CharDevice | Kind::Fifo) {
        bail!("{}: is now {k}; nothing written", path.display());
    }
    Ok(f)
}

/// Flushes a device or FIFO; those that cannot be synced (EINVAL on FIFOs and `/dev/null`) are
/// done once written.
fn sync_through(path: &Path, f: &File) -> Result<()> {
    match f.sync_all() {
        Err(e)
            if e.raw_os_error().is_some_and(|c| {
                c == libc::EINVAL || c == libc::ENOTSUP || c == libc::EOPNOTSUPP
            }) =>
        {
            Ok(())
        }
        r => r.with_context(|| format!("{}: cannot sync", path.display())),
    }
}

/// Renames the finished temporary `temp` over `target`, which must still be a regular file or
/// absent.
fn install(temp: &Path, target: &Path) -> Result<()> {
    if let Dest::Through(_) = dest(target)? {
        bail!(
            "{}: is no longer a regular file; not replaced",
            target.display()
        );
    }
    fs::rename(temp, target).with_context(|| format!("{}: cannot replace", target.display()))?;
    sync_dir(target);
    Ok(())
}

/// Flushes `f` (the file at `path`, just written) to disk while `verify` checks its content,
/// read back through a new map; the hashing of a verification runs while the disk works.
fn sync_and_verify(f: &File, path: &Path, verify: Verify) -> Result<()> {
    std::thread::scope(|sc| {
        let synced = sc.spawn(|| f.sync_all());
        let checked = (|| -> Result<()> {
            let check = File::open(path)?;
            // SAFETY: read-only map of a file this run has just written and still holds.
            let map = unsafe { mapped::map(&check) }?;
            verify(&map)
        })();
        let synced = synced
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the sync thread panicked")));
        checked?;
        synced.with_context(|| format!("{}: cannot sync", path.display()))
    })
}

fn is_text_busy(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .and_then(|io| io.raw_os_error())
        == Some(libc::ETXTBSY)
}

fn journal_path(real: &Path) -> PathBuf {
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    real.with_file_name(format!(".{name}.shenzi-journal"))
}

const MAGIC: &[u8; 16] = b"shenzi-undo-v1\n\0";

/// FNV-1a, enough to tell a complete journal from a torn one.
fn checksum(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn sync_dir(path: &Path) {
    if let Ok(d) = File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
}

/// Undo journal: identity of the file, old length, original bytes of every range, checksum.
fn undo_journal(meta: &fs::Metadata, old: &[u8], writes: &[(u64, &[u8])]) -> Vec<u8> {
    let old_len = old.len() as u64;
    let mut j = Vec::new();
    j.extend_from_slice(MAGIC);
    for v in [meta.dev(), meta.ino(), old_len, writes.len() as u64] {
        j.extend_from_slice(&v.to_le_bytes());
    }
    for (off, bytes) in writes {
        let end = (off + bytes.len() as u64).min(old_len);
        let orig = if *off < end {
            &old[*off as usize..end as usize]
        } else {
            &[][..]
        };
        j.extend_from_slice(&off.to_le_bytes());
        j.extend_from_slice(&(orig.len() as u64).to_le_bytes());
        j.extend_from_slice(orig);
    }
    let sum = checksum(&j);
    j.extend_from_slice(&sum.to_le_bytes());
    j
}

fn in_place(input: &Input, new_len: u64, writes: &[(u64, &[u8])], verify: Verify) -> Result<()> {
    let real = &input.real;
    let old = input.bytes();
    let old_len = old.len() as u64;
    let meta = fs::metadata(real)?;
    let j = undo_journal(&meta, old, writes);

    let file = OpenOptions::new().write(true).open(real).map_err(|e| {
        if e.raw_os_error() == Some(libc::ETXTBSY) {
            anyhow::Error::new(e)
        } else {
            anyhow::Error::new(e).context(format!("{}: cannot open for writing", real.display()))
        }
    })?;
    let jpath = journal_path(real);
    {
        let mut jf = File::create(&jpath)
            .with_context(|| format!("{}: cannot create journal", jpath.display()))?;
        jf.write_all(&j)?;
        jf.sync_all()?;
    }
    sync_dir(&jpath);

    let apply = || -> Result<()> {
        for (off, bytes) in writes {
            file.write_all_at(bytes, *off)?;
        }
        if new_len != old_len {
            file.set_len(new_len)?;
        }
        sync_and_verify(&file, real, verify)
    };
    match apply() {
        Ok(()) => {
            // Not synced: if the removal is lost in a crash, the next run undoes a complete edit,
            // which still leaves a consistent file.
            fs::remove_file(&jpath).ok();
            Ok(())
        }
        Err(e) => {
            rollback(real, &j).with_context(|| {
                format!(
                    "{}: restoring the original failed; the journal {} is kept",
                    real.display(),
                    jpath.display()
                )
            })?;
            fs::remove_file(&jpath).ok();
            Err(e.context(format!("{}: write failed, file restored", real.display())))
        }
    }
}

/// Parses a complete undo journal and writes the original bytes back.
fn rollback(real: &Path, j: &[u8]) -> Result<()> {
    let u64_at = |at: usize| -> Result<u64> {
        let b = j.get(at..at + 8).context("short journal")?;
        Ok(u64::from_le_bytes(b.try_into()?))
    };
    let old_len = u64_at(32)?;
    let count = u64_at(40)?;
    let file = OpenOptions::new().write(true).open(real)?;
    let mut at = 48usize;
    for _ in 0..count {
        let off = u64_at(at)?;
        let len = u64_at(at + 8)? as usize;
        let bytes = j.get(at + 16..at + 16 + len).context("short journal")?;
        file.write_all_at(bytes, off)?;
        at += 16 + len;
    }
    file.set_len(old_len)?;
    file.sync_all()?;
    Ok(())
}

/// Restores `real` from a journal left by an interrupted run, if any.
fn recover(real: &Path) -> Result<()> {
    let jpath = journal_path(real);
    let mut data = Vec::new();
    match File::open(&jpath) {
        Ok(mut f) => f.read_to_end(&mut data)?,
        Err(_) => return Ok(()),
    };
    let valid = data.len() >= 56 && data.starts_with(MAGIC) && {
        let (body, sum) = data.split_at(data.len() - 8);
        checksum(body).to_le_bytes() == sum
    };
    if valid {
        let meta = fs::metadata(real)?;
        let dev = u64::from_le_bytes(data[16..24].try_into()?);
        let ino = u64::from_le_bytes(data[24..32].try_into()?);
        if dev == meta.dev() && ino == meta.ino() {
            rollback(real, &data[..data.len() - 8])?;
            eprintln!(
                "shenzi: {}: restored from the journal of an interrupted edit",
                real.display()
            );
        }
    }
    // A torn journal means the file was never touched.
    fs::remove_file(&jpath)
        .with_context(|| format!("{}: cannot remove stale journal", jpath.display()))?;
    sync_dir(&jpath);
    Ok(())
}

fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.shenzi-tmp.")
}

/// Removes temporary files of `target` whose writer process is gone.
fn clean_stale_temps(target: &Path) {
    let dir = dir_of(target);
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            fs::remove_file(e.path()).ok();
        }
    }
}

/// The temporary that replaces a file we hold the lock on (a fixed name: see `open`).
fn own_temp(real: &Path) -> PathBuf {
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    real.with_file_name(format!(".{name}.shenzi-tmp"))
}

/// The temporary that replaces a file other runs may write at once: the name carries the
/// process id, and leftovers of dead processes are removed first.
fn output_temp(target: &Path) -> PathBuf {
    clean_stale_temps(target);
    target.with_file_name(format!("{}{}", temp_prefix(target), std::process::id()))
}

fn replace(input: &Input, target: &Path, change: Change, verify: Verify) -> Result<()> {
    let temp = if target == input.real {
        own_temp(target)
    } else {
        output_temp(target)
    };
    let result = (|| -> Result<()> {
        let f =
            File::create(&temp).with_context(|| format!("{}: cannot create", temp.display()))?;
        write_change(input, &change, &f)
            .with_context(|| format!("{}: cannot write", temp.display()))?;
        f.set_permissions(fs::metadata(&input.real)?.permissions())?;
        sync_and_verify(&f, &temp, verify)?;
        install(&temp, target)
    })();
    if result.is_err() {
        fs::remove_file(&temp).ok();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(path: &Path, new_len: u64, writes: Vec<(u64, &[u8])>, verify: Verify) -> Result<()> {
        let input = open(path)?;
        commit(input, Change::Patch { new_len, writes }, None, verify)
    }

    #[test]
    fn interrupted_edit_is_undone_by_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("lib.so");
        let original: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&f, &original).unwrap();
        // What a run killed after its journal was written, half-way through its writes, leaves.
        let meta = fs::metadata(&f).unwrap();
        let writes: Vec<(u64, &[u8])> = vec![(100, b"new bytes"), (9_990, b"past the old end")];
        fs::write(
            journal_path(&fs::canonicalize(&f).unwrap()),
            undo_journal(&meta, &original, &writes),
        )
        .unwrap();
        let file = OpenOptions::new().write(true).open(&f).unwrap();
        file.write_all_at(b"new bytes", 100).unwrap();
        file.write_all_at(b"past the old end", 9_990).unwrap();
        drop(file);
        assert_ne!(fs::read(&f).unwrap(), original);
        let input = open(&f).unwrap();
        assert_eq!(input.bytes(), &original[..], "open() restores the original");
        assert!(!journal_path(&input.real).exists(), "journal removed");
    }

    #[test]
    fn torn_journal_is_discarded_without_touching_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("prog");
        fs::write(&f, b"0123456789").unwrap();
        let meta = fs::metadata(&f).unwrap();
        let j = undo_journal(&meta, b"0123456789", &[(2, b"xx")]);
        fs::write(
            journal_path(&fs::canonicalize(&f).unwrap()),
            &j[..j.len() - 3],
        )
        .unwrap();
        assert_eq!(open(&f).unwrap().bytes(), b"0123456789");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "stale journal removed"
        );
    }

    #[test]
    fn failed_verification_restores_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("prog");
        fs::write(&f, b"0123456789").unwrap();
        let err = edit(&f, 12, vec![(2, b"xx"), (10, b"yy")], &|_| {
            anyhow::bail!("rejected")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("rejected"));
        assert_eq!(fs::read(&f).unwrap(), b"0123456789");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no journal left"
        );
        edit(&f, 12, vec![(2, b"xx"), (10, b"yy")], &|b| {
            anyhow::ensure!(b == b"01xx456789yy");
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"01xx456789yy");
    }

    #[test]
    fn output_path_keeps_mode_and_cleans_stale_temps() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("prog");
        fs::write(&f, b"0123456789").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o751)).unwrap();
        let out = dir.path().join("out");
        // A temp file of a writer that no longer exists (pid far above pid_max).
        fs::write(dir.path().join(".out.shenzi-tmp.99999999"), b"junk").unwrap();
        let input = open(&f).unwrap();
        commit(
            input,
            Change::Patch {
                new_len: 10,
                writes: vec![(0, b"ab")],
            },
            Some(&out),
            &|_| Ok(()),
        )
        .unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"ab23456789");
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o751
        );
        assert_eq!(fs::read(&f).unwrap(), b"0123456789");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    fn mkfifo(path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn err_text(r: Result<Dest>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn dest_decides_by_what_the_path_names() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let reg = d.join("reg");
        fs::write(&reg, b"x").unwrap();
        assert_eq!(
            dest(&reg).unwrap(),
            Dest::Replace(fs::canonicalize(&reg).unwrap())
        );
        assert_eq!(dest(&d.join("new")).unwrap(), Dest::Replace(d.join("new")));
        let fifo = d.join("fifo");
        mkfifo(&fifo);
        assert_eq!(dest(&fifo).unwrap(), Dest::Through(fifo.clone()));
        let link = d.join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert_eq!(dest(&link).unwrap(), Dest::Through(link.clone()));
        if Path::new("/dev/null").exists() {
            assert_eq!(
                dest(Path::new("/dev/null")).unwrap(),
                Dest::Through("/dev/null".into())
            );
        }

        let sub = d.join("sub");
        fs::create_dir(&sub).unwrap();
        let e = err_text(dest(&sub));
        assert!(e.contains("sub: is a directory"), "{e}");
        let sock = d.join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let e = err_text(dest(&sock));
        assert!(e.contains("sock: is a socket"), "{e}");
        let e = err_text(dest(&d.join("missing/out")));
        assert!(
            e.contains("missing/out: cannot create: the directory")
                && e.contains("missing does not exist"),
            "{e}"
        );
        let e = err_text(dest(&reg.join("out")));
        assert!(e.contains("reg is a regular file, not a directory"), "{e}");
        let e = err_text(dest(&reg.join("a/b/out")));
        assert!(e.contains("reg is a regular file, not a directory"), "{e}");
        assert_eq!(names(d), ["fifo", "link", "reg", "sock", "sub"]);
        // A dangling link stays a link: the file goes where it points.
        let dangling = d.join("dangling");
        std::os::unix::fs::symlink("sub/target", &dangling).unwrap();
        assert_eq!(
            dest(&dangling).unwrap(),
            Dest::Replace(d.join("sub/target"))
        );
    }

    #[test]
    fn output_through_a_fifo_gets_the_bytes_a_file_would() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("prog");
        fs::write(&f, b"0123456789").unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        // A write past the new end is cut off, one past the old end extends the file.
        let writes: Vec<(u64, &[u8])> = vec![(0, b"ab"), (8, b"XYZW"), (12, b"cut")];
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        let change = Change::Patch {
            new_len: 13,
            writes: writes.clone(),
        };
        commit(open(&f).unwrap(), change, Some(&fifo), &|b| {
            anyhow::ensure!(b.len() == 13);
            Ok(())
        })
        .unwrap();
        let got = reader.join().unwrap();
        let reg = dir.path().join("reg");
        let change = Change::Patch {
            new_len: 13,
            writes,
        };
        commit(open(&f).unwrap(), change, Some(&reg), &|_| Ok(())).unwrap();
        assert_eq!(got, fs::read(&reg).unwrap());
        assert_eq!(got, b"ab234567XYZWc");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(names(dir.path()), ["fifo", "prog", "reg"]);
    }

    #[test]
    fn failed_verification_writes_nothing_through_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("prog");
        fs::write(&f, b"0123456789").unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        // A reader that does not wait for a writer: it sees whatever was written, or EOF.
        let mut reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let err = commit(
            open(&f).unwrap(),
            Change::whole(b"new"),
            Some(&fifo),
            &|_| anyhow::bail!("rejected"),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("rejected"));
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert!(got.is_empty(), "{got:?}");
        assert_eq!(names(dir.path()), ["fifo", "prog"]);
    }

    #[test]
    fn write_new_replaces_files_and_writes_through_fifos() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::write(&out, b"old content, longer").unwrap();
        write_new(&out, Some(0o640), &mut |f| Ok(f.write_all(b"new")?)).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o640
        );

        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_new(&fifo, Some(0o600), &mut |f| Ok(f.write_all(b"streamed")?)).unwrap();
        assert_eq!(reader.join().unwrap(), b"streamed");
        let meta = fs::symlink_metadata(&fifo).unwrap();
        assert!(meta.file_type().is_fifo());
        assert_eq!(meta.permissions().mode() & 0o777, 0o644, "mode untouched");

        // A failing writer leaves the old file and no temporary.
        let err = write_new(&out, None, &mut |f| {
            f.write_all(b"partial")?;
            anyhow::bail!("disk full")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("disk full"));
        assert_eq!(fs::read(&out).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["fifo", "out"]);
    }

    #[test]
    fn inputs_that_are_not_regular_files_are_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        // No writer: opening this for reading would block.
        let e = format!("{:#}", open(&fifo).err().unwrap());
        assert!(e.contains("fifo: is a FIFO, not a regular file"), "{e}");
        let e = format!("{:#}", open(dir.path()).err().unwrap());
        assert!(e.contains("is a directory, not a regular file"), "{e}");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    }
}
