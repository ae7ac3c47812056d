#!/usr/bin/env python3
"""Unit tests of oracle.py's dyld resolution, signature and floor checks, on small Mach-O
files written here byte by byte (no compiler). Exits 0 when all pass.

  target/macos-venv/bin/python corpus/macos/test_oracle.py
"""
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

MH_EXECUTE, MH_DYLIB, MH_BUNDLE = 2, 6, 8
CPU = {"arm64": (0x0100000C, 0), "x86_64": (0x01000007, 3)}
LC_ID_DYLIB, LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB = 0xD, 0xC, 0x80000018
LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB, LC_RPATH = 0x8000001F, 0x80000023, 0x8000001C
LC_CODE_SIGNATURE, LC_VERSION_MIN_MACOSX, LC_BUILD_VERSION = 0x1D, 0x24, 0x32
PAGE = 0x1000


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def dylib_cmd(cmd, name):
    body = pad8(name.encode() + b"\0")
    return struct.pack("<IIIIII", cmd, 24 + len(body), 24, 2, 0x10000, 0x10000) + body


def rpath_cmd(path):
    body = pad8(path.encode() + b"\0")
    return struct.pack("<III", LC_RPATH, 12 + len(body), 12) + body


def version(v):
    parts = [int(x) for x in v.split(".")] + [0, 0]
    return parts[0] << 16 | parts[1] << 8 | parts[2]


def code_directory(image, ident, page_shift=12):
    """An ad-hoc, linker-signed CodeDirectory (version 0x20400) over image."""
    limit = len(image)
    page = 1 << page_shift
    n = (limit + page - 1) // page
    hashes = b"".join(hashlib.sha256(image[k * page:(k + 1) * page]).digest() for k in range(n))
    ident_b = ident.encode() + b"\0"
    hdr = 88
    hash_off = hdr + len(ident_b)
    length = hash_off + len(hashes)
    cd = struct.pack(">IIIIIIIII", 0xFADE0C02, length, 0x20400, 0x20002, hash_off, hdr, 0, n,
                     limit)
    cd += struct.pack(">BBBBI", 32, 2, 0, page_shift, 0)
    cd += struct.pack(">IIIQQQQ", 0, 0, 0, 0, 0, 0, 0)
    assert len(cd) == hdr
    return cd + ident_b + hashes


def macho(arch="arm64", filetype=MH_DYLIB, ident=None, deps=(), rpaths=(), minos="11.0",
          vmin=False, sign=None):
    """A thin Mach-O: header, the given load commands, a page of 'code', a signature when
    sign (default: on arm64). deps: (name, kind) with kind load|weak|reexport|upward."""
    sign = arch == "arm64" if sign is None else sign
    cmds = []
    if ident:
        cmds.append(dylib_cmd(LC_ID_DYLIB, ident))
    kinds = {"load": LC_LOAD_DYLIB, "weak": LC_LOAD_WEAK_DYLIB, "reexport": LC_REEXPORT_DYLIB,
             "upward": LC_LOAD_UPWARD_DYLIB}
    for d in deps:
        name, kind = (d, "load") if isinstance(d, str) else d
        cmds.append(dylib_cmd(kinds[kind], name))
    for r in rpaths:
        cmds.append(rpath_cmd(r))
    if vmin:
        cmds.append(struct.pack("<IIII", LC_VERSION_MIN_MACOSX, 16, version(minos), version(minos)))
    else:
        cmds.append(struct.pack("<IIIIII", LC_BUILD_VERSION, 24, 1, version(minos), version(minos), 0))
    if sign:
        cmds.append(b"")   # placeholder for LC_CODE_SIGNATURE
    ncmds = len(cmds)
    sizeofcmds = sum(len(c) for c in cmds) + (16 if sign else 0)
    cpu, sub = CPU[arch]
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, cpu, sub, filetype, ncmds, sizeofcmds, 0x85, 0)
    code_at = 2 * PAGE
    sig_at = code_at + PAGE
    if sign:
        cmds[-1] = struct.pack("<IIII", LC_CODE_SIGNATURE, 16, sig_at, 0)   # size patched below
    image = header + b"".join(cmds)
    image = image.ljust(code_at, b"\0") + bytes(range(256)) * (PAGE // 256)
    if not sign:
        return image
    cd = code_directory(image, "test")
    blob = struct.pack(">III", 0xFADE0CC0, 12 + 8 + len(cd), 1) + struct.pack(">II", 0, 20) + cd
    blob = blob.ljust((len(blob) + 15) // 16 * 16, b"\0")
    i = image.index(struct.pack("<IIII", LC_CODE_SIGNATURE, 16, sig_at, 0))
    image = image[:i] + struct.pack("<IIII", LC_CODE_SIGNATURE, 16, sig_at, len(blob)) + image[i + 16:]
    # the header edit changed page 0: hash again, now with the final load commands
    cd = code_directory(image, "test")
    blob = (struct.pack(">III", 0xFADE0CC0, 12 + 8 + len(cd), 1) + struct.pack(">II", 0, 20) +
            cd).ljust(len(blob), b"\0")
    return image + blob


def fat(*slices):
    align = 0x4000
    out = struct.pack(">II", 0xCAFEBABE, len(slices))
    off = align
    body = b""
    for s in slices:
        cpu, sub = struct.unpack_from("<ii", s, 4)
        out += struct.pack(">iiIII", cpu, sub, off, len(s), 14)
        body += s.ljust((len(s) + align - 1) // align * align, b"\0")
        off += (len(s) + align - 1) // align * align
    return out.ljust(align, b"\0") + body


class Case(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.b = os.path.join(self.tmp, "bundle")
        os.makedirs(self.b)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def put(self, rel, data):
        p = os.path.join(self.b, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def run_oracle(self, exe=None, expect=None, archs=None):
        o = oracle.Oracle(self.b, exe, archs or (expect or {}).get("archs"))
        return o.run(expect), o

    def assertClean(self, **kw):
        problems, _ = self.run_oracle(**kw)
        self.assertEqual(problems, [])

    def assertProblem(self, needle, **kw):
        problems, _ = self.run_oracle(**kw)
        self.assertTrue(any(needle in p for p in problems), "%r not in %s" % (needle, problems))
        return problems

    def exe(self, **kw):
        self.put("bin/app", macho(filetype=MH_EXECUTE, **kw))


class Resolution(Case):
    def test_loader_path(self):
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib", deps=["@loader_path/b.dylib"]))
        self.put("lib/b.dylib", macho(ident="@rpath/b.dylib"))
        self.assertClean()
        os.unlink(os.path.join(self.b, "lib/b.dylib"))
        self.assertProblem("lib/a.dylib: [arm64] LC_LOAD_DYLIB @loader_path/b.dylib does not resolve")

    def test_executable_path_is_the_main_executable(self):
        self.exe(deps=["@executable_path/../lib/c.dylib"])
        self.put("lib/c.dylib", macho(ident="@rpath/c.dylib"))
        self.put("mods/m.so", macho(filetype=MH_BUNDLE, deps=["@executable_path/../lib/c.dylib"]))
        self.assertClean(exe="bin/app")
        self.assertProblem("@executable_path but the bundle has no main executable")

    def test_rpath_of_the_executable_serves_modules(self):
        self.exe(rpaths=["@executable_path/../lib"])
        self.put("mods/m.so", macho(filetype=MH_BUNDLE, deps=["@rpath/libc.dylib"]))
        self.put("lib/libc.dylib", macho(ident="@rpath/libc.dylib"))
        self.assertClean(exe="bin/app")
        # without the executable, no rpath finds it
        self.assertProblem("mods/m.so: [arm64] LC_LOAD_DYLIB @rpath/libc.dylib does not resolve")

    def test_loader_path_in_an_rpath_is_the_rpaths_owner(self):
        # m.so's rpath serves libd's dependency, expanded relative to m.so, not to libd
        self.put("a/b/m.so", macho(filetype=MH_BUNDLE, deps=["@rpath/libd.dylib"],
                                   rpaths=["@loader_path/../../lib"]))
        self.put("lib/libd.dylib", macho(ident="@rpath/libd.dylib", deps=["@rpath/libe.dylib"]))
        self.put("lib/libe.dylib", macho(ident="@rpath/libe.dylib"))
        self.assertClean()
        # without m.so's rpath nothing finds libe (libd has no rpath of its own)
        self.put("a/b/m.so", macho(filetype=MH_BUNDLE, deps=["@loader_path/../../lib/libd.dylib"],
                                   rpaths=["@loader_path/nothing"]))
        self.assertProblem("lib/libd.dylib: [arm64] LC_LOAD_DYLIB @rpath/libe.dylib does not resolve: "
                           "no LC_RPATH of lib/libd.dylib -> a/b/m.so finds it (tried: a/b/nothing/libe.dylib)")

    def test_each_chain_must_resolve(self):
        # libd is reached from two modules; only one of them has the rpath its dependency needs
        self.put("m1.so", macho(filetype=MH_BUNDLE, deps=["@loader_path/lib/libd.dylib"],
                                rpaths=["@loader_path/lib"]))
        self.put("m2.so", macho(filetype=MH_BUNDLE, deps=["@loader_path/lib/libd.dylib"]))
        self.put("lib/libd.dylib", macho(ident="@rpath/libd.dylib", deps=["@rpath/libe.dylib"]))
        self.put("lib/libe.dylib", macho(ident="@rpath/libe.dylib"))
        problems = self.assertProblem("no LC_RPATH of lib/libd.dylib -> m2.so finds it")
        self.assertFalse(any("m1.so finds" in p for p in problems), problems)

    def test_first_rpath_wins_and_outside_rpaths_find_nothing(self):
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "libz.dylib"), "wb") as f:
            f.write(macho(ident="@rpath/libz.dylib"))
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=["@rpath/libz.dylib"], rpaths=[outside]))
        problems = self.assertProblem("LC_LOAD_DYLIB @rpath/libz.dylib does not resolve")
        self.assertTrue(any("is an absolute path outside the bundle" in p for p in problems))
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=["@rpath/libz.dylib"],
                               rpaths=["@loader_path/missing", "@loader_path/lib"]))
        self.put("lib/libz.dylib", macho(ident="@rpath/libz.dylib"))
        self.assertClean()

    def test_absolute_and_system(self):
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=[
            "/usr/lib/libSystem.B.dylib", "/usr/lib/swift/libswiftCore.dylib",
            "/System/Library/Frameworks/Accelerate.framework/Versions/A/Accelerate",
            "/System/Library/PrivateFrameworks/Foo.framework/Foo"]))
        self.assertClean()
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=["/usr/local/lib/libfoo.dylib"]))
        self.assertProblem("LC_LOAD_DYLIB /usr/local/lib/libfoo.dylib does not resolve: absolute path outside")
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=[os.path.join(self.b, "lib/x.dylib")]))
        self.put("lib/x.dylib", macho(ident="@rpath/x.dylib"))
        self.assertProblem("absolute path outside the bundle")   # absolute: not relocatable
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=["lib/x.dylib"]))
        self.assertProblem("relative path")

    def test_weak_may_be_missing_others_not(self):
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=[("@rpath/libopt.dylib", "weak"),
                                                         ("/opt/nothing/libn.dylib", "weak")]))
        self.assertClean()
        for kind, name in (("reexport", "LC_REEXPORT_DYLIB"), ("upward", "LC_LOAD_UPWARD_DYLIB"),
                           ("load", "LC_LOAD_DYLIB")):
            self.put("m.so", macho(filetype=MH_BUNDLE, deps=[("@loader_path/libr.dylib", kind)]))
            self.assertProblem("%s @loader_path/libr.dylib does not resolve" % name)

    def test_unreached_dylib_is_checked_as_dlopened_by_the_executable(self):
        self.exe(rpaths=["@executable_path/../lib"])
        self.put("lib/liba.dylib", macho(ident="@rpath/liba.dylib", deps=["@rpath/libb.dylib"]))
        self.put("lib/libb.dylib", macho(ident="@rpath/libb.dylib"))
        self.assertClean(exe="bin/app")
        os.unlink(os.path.join(self.b, "lib/libb.dylib"))
        self.assertProblem("lib/liba.dylib: [arm64] LC_LOAD_DYLIB @rpath/libb.dylib does not resolve",
                           exe="bin/app")

    def test_cycles_terminate(self):
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib", deps=[("@loader_path/b.dylib", "upward")]))
        self.put("lib/b.dylib", macho(ident="@rpath/b.dylib", deps=["@loader_path/a.dylib"]))
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=["@loader_path/lib/a.dylib"]))
        self.assertClean()

    def test_dependency_without_the_arch(self):
        self.exe(deps=["@executable_path/../lib/x.dylib"])
        self.put("lib/x.dylib", macho(arch="x86_64", ident="@rpath/x.dylib"))
        self.assertProblem("has no arm64 slice", exe="bin/app")

    def test_symlinks(self):
        self.put("lib/libq.1.dylib", macho(ident="@rpath/libq.1.dylib"))
        os.symlink("libq.1.dylib", os.path.join(self.b, "lib/libq.dylib"))
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=["@loader_path/lib/libq.dylib"]))
        self.assertClean()
        os.symlink("/usr/bin/env", os.path.join(self.b, "lib/out"))
        self.assertProblem("lib/out: symbolic link to /usr/bin/env leaves the bundle")

    def test_hostile(self):
        good = macho(ident="@rpath/libh.dylib")
        self.put("lib/libh.dylib", good[:32 + 40])   # the load commands stop a third of the way
        self.put("m.so", macho(filetype=MH_BUNDLE, deps=["@loader_path/lib/libh.dylib"]))
        problems = self.assertProblem("lib/libh.dylib: not a valid Mach-O")
        self.assertTrue(any("m.so: [arm64] LC_LOAD_DYLIB @loader_path/lib/libh.dylib is not a valid"
                            in p for p in problems), problems)


class Commands(Case):
    def test_rpaths_and_ids(self):
        self.put("lib/a.dylib", macho(ident="/opt/lib/a.dylib"))
        self.assertProblem("LC_ID_DYLIB /opt/lib/a.dylib points outside the bundle")
        self.put("lib/a.dylib", macho(ident="@loader_path/../../a.dylib"))
        self.assertProblem("LC_ID_DYLIB @loader_path/../../a.dylib climbs out")
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib", rpaths=["/opt/build/lib"]))
        self.assertProblem("LC_RPATH /opt/build/lib is an absolute path outside the bundle")
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib", rpaths=["@loader_path/../.."]))
        self.assertProblem("LC_RPATH @loader_path/../.. climbs out of the bundle")
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib", rpaths=["@loader_path/..", "@loader_path/.."]))
        self.assertProblem("LC_RPATH @loader_path/.. appears twice")
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib", rpaths=["@loader_path/..", "/usr/lib/swift"]))
        self.assertClean()


class Signature(Case):
    def test_valid_signature(self):
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib"))
        self.assertClean()

    def test_changed_page_fails(self):
        data = bytearray(macho(ident="@rpath/a.dylib"))
        data[2 * PAGE + 5] ^= 1
        self.put("lib/a.dylib", bytes(data))
        self.assertProblem("page 2 (of 3, 4096 bytes each) hash mismatch")

    def test_changed_header_fails(self):
        data = bytearray(macho(ident="@rpath/a.dylib"))
        i = data.index(b"@rpath/a.dylib")
        data[i + 7] = ord("b")
        self.put("lib/a.dylib", bytes(data))
        self.assertProblem("page 0 (of 3, 4096 bytes each) hash mismatch")

    def test_unsigned(self):
        self.put("lib/a.dylib", macho(ident="@rpath/a.dylib", sign=False))
        self.assertProblem("lib/a.dylib: [arm64] no code signature")
        self.put("lib/a.dylib", macho(arch="x86_64", ident="@rpath/a.dylib"))
        self.assertClean()

    def test_page_hash_function_directly(self):
        image = bytes(range(256)) * 40 + b"tail"
        cd = code_directory(image, "x", page_shift=12)
        sig = struct.pack(">III", 0xFADE0CC0, 20 + len(cd), 1) + struct.pack(">II", 0, 20) + cd
        self.assertEqual(oracle.verify_signature(image + sig, len(image), len(sig)), [])
        # 16 KiB pages too (what ld64 writes for arm64)
        cd = code_directory(image, "x", page_shift=14)
        sig = struct.pack(">III", 0xFADE0CC0, 20 + len(cd), 1) + struct.pack(">II", 0, 20) + cd
        self.assertEqual(oracle.verify_signature(image + sig, len(image), len(sig)), [])
        bad = bytearray(image)
        bad[-1] ^= 0xFF
        self.assertEqual(oracle.verify_signature(bytes(bad) + sig, len(image), len(sig)),
                         ["code signature: page 0 (of 1, 16384 bytes each) hash mismatch"])
        self.assertIn("codeLimit", oracle.verify_signature(image + b"\0" * 16 + sig,
                                                           len(image) + 16, len(sig))[0])

    def test_fat_signed_slices(self):
        arm = macho(ident="@rpath/u.dylib")
        x86 = macho(arch="x86_64", ident="@rpath/u.dylib", minos="10.13", vmin=True)
        self.put("lib/u.dylib", fat(arm, x86))
        self.assertClean()
        data = bytearray(fat(arm, x86))
        data[0x4000 + 2 * PAGE] ^= 1   # inside the arm64 slice's code
        self.put("lib/u.dylib", bytes(data))
        problems = self.assertProblem("lib/u.dylib: [arm64] code signature: page 2")
        self.assertEqual(len(problems), 1, problems)


class Floor(Case):
    def test_floor_over_all_slices(self):
        self.put("lib/u.dylib", fat(macho(ident="@rpath/u.dylib", minos="11.0"),
                                    macho(arch="x86_64", ident="@rpath/u.dylib", minos="10.13", vmin=True)))
        self.put("lib/v.dylib", macho(ident="@rpath/v.dylib", minos="12.3"))
        _, o = self.run_oracle()
        self.assertEqual((o.floor, os.path.basename(o.floor_from)), ("12.3", "v.dylib"))
        self.put("lib/w.dylib", macho(arch="x86_64", ident="@rpath/w.dylib", minos="13.0.1", vmin=True))
        _, o = self.run_oracle()
        self.assertEqual(o.floor, "13.0.1")

    def test_expect(self):
        self.exe(minos="12.0")
        expect = {"exe": "bin/app", "macos_floor": "12.0", "archs": ["arm64"]}
        self.assertClean(exe="bin/app", expect=expect)
        self.assertProblem("macos floor is 12.0 (from bin/app), expected 11.0", exe="bin/app",
                           expect=dict(expect, macos_floor="11.0"))
        self.assertProblem("has archs ['arm64'], expected ['arm64', 'x86_64']", exe="bin/app",
                           expect=dict(expect, archs=["arm64", "x86_64"]))
        with open(os.path.join(self.b, "shenzi-manifest.json"), "w") as f:
            json.dump({"macos_floor": "11.0"}, f)
        self.assertProblem("shenzi-manifest.json: macos_floor is '11.0', the bundle's slices need '12.0'",
                           exe="bin/app", expect=expect)
        with open(os.path.join(self.b, "shenzi-manifest.json"), "w") as f:
            json.dump({"macos_floor": "12.0"}, f)
        self.assertClean(exe="bin/app", expect=expect)


if __name__ == "__main__":
    r = unittest.main(exit=False, verbosity=1).result
    sys.exit(0 if r.wasSuccessful() else 1)
