#!/usr/bin/env python3
"""The oracle's positive control: a hand-fixed bundle made from the venv layout.

  fixed_control.py OUT      (OUT = target/corpus-macos; writes OUT/check/fixed/)

Copies the python.org framework (as python/) and the shenzifix and markupsafe packages of the
venv layout into a bundle and rewrites their load commands in place the way a correct bundler
could (ids to @rpath/, dependencies to @executable_path/ and @loader_path/, the stale and the
repeated LC_RPATH deleted; libshenzi_util, which has no header room, only gets a shorter id),
then re-hashes each arm64 signature. The oracle must find no problem in it (check.sh).
Byte edits here because llvm-install-name-tool refuses files with LC_REEXPORT_DYLIB.
"""
import hashlib
import json
import os
import shutil
import struct
import sys

FW = "/Library/Frameworks/Python.framework/Versions/3.11"
SITE = "python/lib/python3.11/site-packages"
LC_ID_DYLIB, LC_LOAD_DYLIB, LC_RPATH, LC_CODE_SIGNATURE = 0xD, 0xC, 0x8000001C, 0x1D
LC_REEXPORT_DYLIB, LC_LOAD_WEAK_DYLIB = 0x8000001F, 0x80000018
DYLIB_CMDS = (LC_ID_DYLIB, LC_LOAD_DYLIB, LC_REEXPORT_DYLIB, LC_LOAD_WEAK_DYLIB)


def commands(buf):
    ncmds = struct.unpack_from("<I", buf, 16)[0]
    off = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", buf, off)
        yield off, cmd, size
        off += size


def string_at(buf, off, cmd, size):
    s = struct.unpack_from("<I", buf, off + 8)[0]
    return s, bytes(buf[off + s:off + size]).split(b"\0", 1)[0].decode()


def edit_slice(buf, ident=None, change=(), delete_rpath=()):
    """In place: new id, (old, new) dependency names, LC_RPATHs to delete once each."""
    change = dict(change)
    for off, cmd, size in list(commands(buf)):
        if cmd in DYLIB_CMDS:
            s, name = string_at(buf, off, cmd, size)
            new = ident if cmd == LC_ID_DYLIB else change.get(name)
            if new:
                assert len(new) < size - s, (name, new)
                buf[off + s:off + size] = new.encode().ljust(size - s, b"\0")
    for rp in delete_rpath:
        for off, cmd, size in commands(buf):
            if cmd == LC_RPATH and string_at(buf, off, cmd, size)[1] == rp:
                ncmds, sizeofcmds = struct.unpack_from("<II", buf, 16)
                end = 32 + sizeofcmds
                buf[off:end] = buf[off + size:end] + b"\0" * size
                struct.pack_into("<II", buf, 16, ncmds - 1, sizeofcmds - size)
                break
        else:
            raise SystemExit("no LC_RPATH %s" % rp)
    rehash(buf)


def rehash(buf):
    for off, cmd, size in commands(buf):
        if cmd != LC_CODE_SIGNATURE:
            continue
        dataoff = struct.unpack_from("<I", buf, off + 8)[0]
        count = struct.unpack_from(">I", buf, dataoff + 8)[0]
        for i in range(count):
            cd = dataoff + struct.unpack_from(">I", buf, dataoff + 16 + 8 * i)[0]
            if struct.unpack_from(">I", buf, cd)[0] != 0xFADE0C02:
                continue
            hash_off, _i, _s, ncode, limit = struct.unpack_from(">IIIII", buf, cd + 16)
            hsize, htype, _p, shift = struct.unpack_from(">BBBB", buf, cd + 36)
            algo = {1: hashlib.sha1, 2: hashlib.sha256}[htype]
            for k in range(ncode):
                page = bytes(buf[k << shift:min((k + 1) << shift, limit)])
                buf[cd + hash_off + hsize * k:cd + hash_off + hsize * (k + 1)] = algo(page).digest()[:hsize]


def edit(path, **kw):
    data = bytearray(open(path, "rb").read())
    if data[:4] == b"\xca\xfe\xba\xbe":
        for i in range(struct.unpack_from(">I", data, 4)[0]):
            _c, _s, off, size, _a = struct.unpack_from(">iiIII", data, 8 + 20 * i)
            sl = bytearray(data[off:off + size])
            edit_slice(sl, **kw)
            data[off:off + size] = sl
    else:
        edit_slice(data, **kw)
    open(path, "wb").write(data)


def main():
    out = sys.argv[1]
    src = os.path.join(out, "venv", "root")
    dest = os.path.join(out, "check", "fixed")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src + FW, os.path.join(dest, "python"), symlinks=True)
    venv_site = src + "/Users/dev/proj/.venv/lib/python3.11/site-packages"
    for pkg in ("shenzifix", "markupsafe"):
        shutil.copytree(os.path.join(venv_site, pkg), os.path.join(dest, SITE, pkg), symlinks=True)
    os.makedirs(os.path.join(dest, "app"))
    shutil.copy(src + "/Users/dev/proj/app.py", os.path.join(dest, "app"))
    p = lambda rel: os.path.join(dest, rel)
    dyn = "python/lib/python3.11/lib-dynload/"
    edit(p("python/Python"), ident="@rpath/Python")
    edit(p("python/Resources/Python.app/Contents/MacOS/Python"),
         change=[(FW + "/Python", "@executable_path/../../../../Python")])
    edit(p("python/bin/python3.11"), change=[(FW + "/Python", "@executable_path/../Python")])
    edit(p("python/lib/libssl.3.dylib"), ident="@rpath/libssl.3.dylib",
         change=[(FW + "/lib/libcrypto.3.dylib", "@loader_path/libcrypto.3.dylib")])
    edit(p("python/lib/libcrypto.3.dylib"), ident="@rpath/libcrypto.3.dylib")
    edit(p(dyn + "_ssl.cpython-311-darwin.so"),
         change=[(FW + "/Python", "@loader_path/../../../Python"),
                 (FW + "/lib/libssl.3.dylib", "@loader_path/../../libssl.3.dylib")])
    edit(p(dyn + "_hashlib.cpython-311-darwin.so"),
         change=[(FW + "/lib/libcrypto.3.dylib", "@loader_path/../../libcrypto.3.dylib")])
    fix = SITE + "/shenzifix/"
    edit(p(fix + ".dylibs/libshenzi_core.dylib"), delete_rpath=["@loader_path/"])
    edit(p(fix + ".dylibs/libshenzi_util.dylib"), ident="@rpath/libshenzi_util.dylib")
    edit(p(fix + "_fix.cpython-311-darwin.so"), delete_rpath=["/Users/runner/work/build/lib"])
    with open(p("shenzi-manifest.json"), "w") as f:
        json.dump({"macos_floor": "11.0"}, f)
    with open(os.path.join(out, "check", "fixed.expect.json"), "w") as f:
        json.dump({"exe": "python/Resources/Python.app/Contents/MacOS/Python",
                   "macos_floor": "11.0", "archs": ["arm64"]}, f)


if __name__ == "__main__":
    main()
