//! A deterministic zip writer for the archives CPython's `zipimport` reads: members in the
//! order given, each deflated (or stored when that is not smaller), one fixed DOS timestamp,
//! no extra fields, UTF-8 names. Members are compressed in parallel. No zip64: an archive
//! past 4 GiB or 65535 members is refused.

use std::io::Write;

use anyhow::{bail, Result};
use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};
use rayon::prelude::*;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const UTF8_NAMES: u16 = 1 << 11;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;

struct Packed {
    method: u16,
    crc: u32,
    size: u32,
    data: Vec<u8>,
}

fn pack(data: &[u8]) -> Result<Packed> {
    let size = u32::try_from(data.len())?;
    let mut crc = Crc::new();
    crc.update(data);
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data)?;
    let deflated = enc.finish()?;
    let (method, stored) = if deflated.len() < data.len() {
        (DEFLATED, deflated)
    } else {
        (STORED, data.to_vec())
    };
    Ok(Packed {
        method,
        crc: crc.sum(),
        size,
        data: stored,
    })
}

/// (time, date) in MS-DOS format for a Unix time (UTC), clamped to 1980..=2107.
fn dos_time(secs: i64) -> (u16, u16) {
    let (year, month, day, h, m, s) = super::clock::utc(secs);
    if year < 1980 {
        return (0, (1 << 5) | 1);
    }
    let year = year.min(2107) as u32;
    let time = (h << 11) | (m << 5) | (s / 2);
    let date = ((year - 1980) << 9) | (month << 5) | day;
    (time as u16, date as u16)
}

/// A zip archive of `members` (name, bytes, Unix mode), all dated `mtime`.
pub fn archive(members: &[(String, Vec<u8>, u32)], mtime: i64) -> Result<Vec<u8>> {
    if members.len() > usize::from(u16::MAX) {
        bail!(
            "{} members: more than a zip without zip64 holds",
            members.len()
        );
    }
    let packed: Vec<Packed> = members
        .par_iter()
        .map(|(_, data, _)| pack(data))
        .collect::<Result<_>>()?;
    let (time, date) = dos_time(mtime);
    let mut out = Vec::new();
    let mut central = Vec::new();
    let put16 = |b: &mut Vec<u8>, v: u16| b.extend_from_slice(&v.to_le_bytes());
    let put32 = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_le_bytes());
    for ((name, _, mode), p) in members.iter().zip(&packed) {
        let offset = u32::try_from(out.len())
            .map_err(|_| anyhow::anyhow!("the archive passes 4 GiB: zip64 is not written"))?;
        let name_len = u16::try_from(name.len())?;
        let csize = u32::try_from(p.data.len())?;
        put32(&mut out, LOCAL);
        put16(&mut out, 20);
        put16(&mut out, UTF8_NAMES);
        put16(&mut out, p.method);
        put16(&mut out, time);
        put16(&mut out, date);
        put32(&mut out, p.crc);
        put32(&mut out, csize);
        put32(&mut out, p.size);
        put16(&mut out, name_len);
        put16(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&p.data);

        put32(&mut central, CENTRAL);
        put16(&mut central, (3 << 8) | 20); // made by: Unix, spec 2.0
        put16(&mut central, 20);
        put16(&mut central, UTF8_NAMES);
        put16(&mut central, p.method);
        put16(&mut central, time);
        put16(&mut central, date);
        put32(&mut central, p.crc);
        put32(&mut central, csize);
        put32(&mut central, p.size);
        put16(&mut central, name_len);
        put16(&mut central, 0); // extra
        put16(&mut central, 0); // comment
        put16(&mut central, 0); // disk
        put16(&mut central, 0); // internal attributes
        put32(&mut central, (0o100_000 | mode) << 16);
        put32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = u32::try_from(out.len())
        .map_err(|_| anyhow::anyhow!("the archive passes 4 GiB: zip64 is not written"))?;
    let cd_size = u32::try_from(central.len())?;
    out.extend_from_slice(&central);
    let n = members.len() as u16;
    put32(&mut out, END);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, n);
    put16(&mut out, n);
    put32(&mut out, cd_size);
    put32(&mut out, cd_offset);
    put16(&mut out, 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dos_times() {
        assert_eq!(dos_time(315_532_800), (0, (1 << 5) | 1)); // 1980-01-01 00:00:00
        assert_eq!(dos_time(0), (0, (1 << 5) | 1)); // clamped
                                                    // 2024-02-29 13:45:10 UTC
        let t = 1_709_214_310;
        assert_eq!(
            dos_time(t),
            ((13 << 11) | (45 << 5) | 5, (44 << 9) | (2 << 5) | 29)
        );
    }

    #[test]
    fn python_reads_the_archive() {
        let Ok(py) = which::python() else {
            let required = std::env::var("SHENZI_REQUIRE_ORACLES").is_ok_and(|v| v == "1");
            assert!(!required, "python3 is required");
            return;
        };
        let members = vec![
            (
                "pkg/__init__.py".to_string(),
                b"VALUE = 'caf\xc3\xa9'\n".to_vec(),
                0o644,
            ),
            ("pkg/data.txt".to_string(), vec![b'x'; 5000], 0o644),
            ("empty".to_string(), Vec::new(), 0o755),
        ];
        let z = archive(&members, 1_709_214_310).unwrap();
        assert_eq!(z, archive(&members, 1_709_214_310).unwrap());
        let path = std::env::temp_dir().join(format!("shenzi-zip-{}.zip", std::process::id()));
        std::fs::write(&path, &z).unwrap();
        let script = "import sys, zipfile\n\
            z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n\
            i = z.getinfo('pkg/data.txt'); assert i.compress_type == 8 and i.date_time == (2024, 2, 29, 13, 45, 10)\n\
            assert z.read('empty') == b'' and z.getinfo('empty').external_attr >> 16 == 0o100755\n\
            sys.path.insert(0, sys.argv[1]); import pkg; print(pkg.VALUE)";
        let out = std::process::Command::new(py)
            .args(["-c", script])
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "café");
    }

    mod which {
        pub fn python() -> Result<std::path::PathBuf, ()> {
            let path = std::env::var_os("PATH").ok_or(())?;
            std::env::split_paths(&path)
                .map(|d| d.join("python3"))
                .find(|p| p.is_file())
                .ok_or(())
        }
    }
}
