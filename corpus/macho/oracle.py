#!/usr/bin/env python3
"""Independent checks of Mach-O files for shenzi's tests.

Parses with macholib (a separate implementation) and recomputes code-signature hashes with
hashlib, sharing no code with shenzi. Prints JSON.

  oracle.py check FILE        headers, load commands, dylibs, rpaths, id, signature verdict
  oracle.py sections FILE     every section: addr, offset, size, sha256 of its file bytes
  oracle.py words FILE ARCH ADDR...   pointer-sized words at unslid addresses
"""
import hashlib
import json
import struct
import sys

from macholib import mach_o
from macholib.MachO import MachO

DYLIB_CMDS = {
    mach_o.LC_LOAD_DYLIB: "load",
    mach_o.LC_LOAD_WEAK_DYLIB: "weak",
    mach_o.LC_REEXPORT_DYLIB: "reexport",
    mach_o.LC_LOAD_UPWARD_DYLIB: "upward",
    mach_o.LC_LAZY_LOAD_DYLIB: "lazy",
}


def arch_of(h):
    cpu = h.header.cputype
    return {0x0100000C: "arm64", 0x01000007: "x86_64", 7: "i386"}.get(cpu, hex(cpu))


def cstring(data):
    if isinstance(data, bytes):
        return data.split(b"\0", 1)[0].decode("utf-8", "replace")
    return str(data)


def slice_bytes(path, h):
    with open(path, "rb") as f:
        f.seek(h.offset)
        return f.read(h.size if h.size else -1)


def verify_signature(image, dataoff, datasize):
    problems = []
    sig = image[dataoff : dataoff + datasize]
    magic, length, count = struct.unpack(">III", sig[:12])
    if magic != 0xFADE0CC0:
        return {"valid": False, "problems": ["bad SuperBlob magic %#x" % magic]}
    blobs = {}
    for i in range(count):
        typ, off = struct.unpack(">II", sig[12 + 8 * i : 20 + 8 * i])
        bmagic, blen = struct.unpack(">II", sig[off : off + 8])
        blobs[typ] = sig[off : off + blen]
    cds = [blobs[t] for t in blobs if t == 0 or 0x1000 <= t < 0x1005]
    checked = 0
    flags = None
    ident = None
    for cd in cds:
        (cmagic, clen, version, flags, hash_off, ident_off, n_special, n_code, limit) = struct.unpack(
            ">9I", cd[:36]
        )
        hash_size, hash_type, _platform, page_shift = struct.unpack(">BBBB", cd[36:40])
        ident = cstring(cd[ident_off:])
        if hash_type != 2:
            continue
        checked += 1
        if limit != dataoff:
            problems.append("codeLimit %#x != dataoff %#x" % (limit, dataoff))
        page = 1 << page_shift
        want_n = (limit + page - 1) // page
        if n_code != want_n:
            problems.append("nCodeSlots %d != %d" % (n_code, want_n))
        for k in range(n_code):
            h = hashlib.sha256(image[k * page : min((k + 1) * page, limit)]).digest()
            if cd[hash_off + 32 * k : hash_off + 32 * (k + 1)] != h:
                problems.append("page %d hash mismatch" % k)
                break
        for slot in (2, 5, 7):
            if slot in blobs and slot <= n_special:
                h = hashlib.sha256(blobs[slot]).digest()
                if cd[hash_off - 32 * slot : hash_off - 32 * (slot - 1)] != h:
                    problems.append("special slot %d hash mismatch" % slot)
        if version >= 0x20400:
            base, lim, eflags = struct.unpack(">QQQ", cd[64:88])
            if base != 0:
                problems.append("execSegBase %#x" % base)
    if checked == 0:
        problems.append("no SHA-256 CodeDirectory")
    return {
        "valid": not problems,
        "problems": problems,
        "flags": flags,
        "identifier": ident,
        "special_blobs": sorted(t for t in blobs if t not in (0,) and not 0x1000 <= t < 0x1005),
    }


def check(path):
    m = MachO(path)  # raises on malformed input
    out = []
    for h in m.headers:
        entry = {
            "arch": arch_of(h),
            "filetype": h.header.filetype,
            "ncmds": h.header.ncmds,
            "sizeofcmds": h.header.sizeofcmds,
            "dylibs": [],
            "rpaths": [],
            "id": None,
            "signature": None,
        }
        image = slice_bytes(path, h)
        for lc, cmd, data in h.commands:
            if lc.cmd in DYLIB_CMDS:
                entry["dylibs"].append([DYLIB_CMDS[lc.cmd], cstring(data)])
            elif lc.cmd == mach_o.LC_ID_DYLIB:
                entry["id"] = cstring(data)
            elif lc.cmd == mach_o.LC_RPATH:
                entry["rpaths"].append(cstring(data))
            elif lc.cmd == mach_o.LC_CODE_SIGNATURE:
                entry["signature"] = verify_signature(image, cmd.dataoff, cmd.datasize)
        out.append(entry)
    return out


def sections(path):
    m = MachO(path)
    out = []
    for h in m.headers:
        image = slice_bytes(path, h)
        secs = []
        for lc, cmd, data in h.commands:
            if lc.cmd not in (mach_o.LC_SEGMENT, mach_o.LC_SEGMENT_64):
                continue
            for s in data:
                zerofill = (s.flags & 0xFF) in (1, 0xC, 0x12)
                body = b"" if zerofill or s.offset == 0 else image[s.offset : s.offset + s.size]
                secs.append(
                    {
                        "segname": cstring(s.segname),
                        "sectname": cstring(s.sectname),
                        "addr": s.addr,
                        "offset": s.offset,
                        "size": s.size,
                        "flags": s.flags,
                        "sha256": hashlib.sha256(body).hexdigest(),
                    }
                )
        segs = [
            {
                "name": cstring(cmd.segname),
                "vmaddr": cmd.vmaddr,
                "vmsize": cmd.vmsize,
                "fileoff": cmd.fileoff,
                "filesize": cmd.filesize,
            }
            for lc, cmd, _ in h.commands
            if lc.cmd in (mach_o.LC_SEGMENT, mach_o.LC_SEGMENT_64)
        ]
        out.append({"arch": arch_of(h), "sections": secs, "segments": segs})
    return out


def words(path, arch, addrs):
    m = MachO(path)
    for h in m.headers:
        if arch_of(h) != arch:
            continue
        image = slice_bytes(path, h)
        segs = [
            (cmd.vmaddr, cmd.vmsize, cmd.fileoff, cmd.filesize)
            for lc, cmd, _ in h.commands
            if lc.cmd in (mach_o.LC_SEGMENT, mach_o.LC_SEGMENT_64)
        ]
        size = 8 if h.header.magic in (0xFEEDFACF, 0xCFFAEDFE) else 4
        res = []
        for a in addrs:
            for vm, vms, fo, fs in segs:
                if vm <= a < vm + min(vms, fs):
                    off = fo + a - vm
                    res.append(int.from_bytes(image[off : off + size], "little"))
                    break
            else:
                res.append(None)
        return res
    raise SystemExit("no slice for " + arch)


def main():
    cmd = sys.argv[1]
    if cmd == "check":
        print(json.dumps({p: check(p) for p in sys.argv[2:]}))
    elif cmd == "sections":
        print(json.dumps(sections(sys.argv[2])))
    elif cmd == "words":
        print(json.dumps(words(sys.argv[2], sys.argv[3], [int(a, 0) for a in sys.argv[4:]])))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
