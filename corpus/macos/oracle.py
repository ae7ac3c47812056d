#!/usr/bin/env python3
"""Independent checks of a macOS bundle folder (shares no code with shenzi).

  oracle.py BUNDLE [--exe REL_PATH] [--expect expect.json]

Walks every Mach-O file of BUNDLE (every slice of fat files) with macholib and checks what
dyld would do with it:
  * every non-weak dependency (LC_LOAD_DYLIB, LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB)
    resolves to a file inside the bundle, or is a system library (/usr/lib/*.dylib,
    /usr/lib/swift/*, /System/Library/Frameworks/*, /System/Library/PrivateFrameworks/*);
  * no LC_ID_DYLIB and no LC_RPATH points outside the bundle; no image repeats an LC_RPATH;
  * every arm64 slice has a code signature whose SHA-256 page hashes verify (any other slice's
    signature, when present, too);
and reports the highest minimum macOS version over all slices. With --expect it also checks
that the main executable has the expected archs and that every Mach-O carries a slice for each,
that the floor is the expected one, and that BUNDLE/shenzi-manifest.json, if present, records
it as "macos_floor". Prints every problem as `path: problem`; exits 1 if there is any.

dyld's rules as implemented (man dyld; dyld's Loader::forEachPath / expandAtLoaderPath):
  @executable_path/  the directory of the main executable (--exe)
  @loader_path/      the directory of the image whose load command it is (for an LC_RPATH:
                     of the image holding that LC_RPATH)
  @rpath/X           each LC_RPATH of the loading image, then of the image that loaded it, and
                     so on up to the main executable, in order; the first existing file wins
  /absolute          taken as is: outside the bundle unless it is a system library
  relative           relative to the current directory: never accepted
Load chains start at the main executable and at every extension module (*.so, which Python
dlopens: chain [module, executable]); any other executable starts its own chain; a dylib no
chain reaches is checked as if the main executable had dlopened it.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

from macholib import mach_o
from macholib.MachO import MachO

ARCHS = {0x0100000C: "arm64", 0x01000007: "x86_64", 0x0200000C: "arm64_32", 7: "i386",
         12: "arm"}
MAGICS = {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe",
          b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"}
SYSTEM_PREFIXES = ("/usr/lib/swift/", "/System/Library/Frameworks/",
                   "/System/Library/PrivateFrameworks/")
STRONG = {mach_o.LC_LOAD_DYLIB: "LC_LOAD_DYLIB", mach_o.LC_REEXPORT_DYLIB: "LC_REEXPORT_DYLIB",
          mach_o.LC_LOAD_UPWARD_DYLIB: "LC_LOAD_UPWARD_DYLIB"}
WEAK = {mach_o.LC_LOAD_WEAK_DYLIB: "LC_LOAD_WEAK_DYLIB", mach_o.LC_LAZY_LOAD_DYLIB: "LC_LAZY_LOAD_DYLIB"}
MH_EXECUTE, MH_DYLIB, MH_BUNDLE = 2, 6, 8
CSMAGIC_EMBEDDED_SIGNATURE, CSMAGIC_CODEDIRECTORY = 0xFADE0CC0, 0xFADE0C02
CS_HASHTYPE_SHA256 = 2


def is_system(path):
    if path.startswith(SYSTEM_PREFIXES):
        return True
    return path.startswith("/usr/lib/") and path.endswith(".dylib")


def cstr(data):
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


def version_str(v):
    major, minor, patch = v >> 16, (v >> 8) & 0xFF, v & 0xFF
    return "%d.%d" % (major, minor) + (".%d" % patch if patch else "")


class Slice:
    """What the checks need from one architecture of one file."""

    def __init__(self, path, arch, filetype, offset, size):
        self.path, self.arch, self.filetype = path, arch, filetype
        self.offset, self.size = offset, size
        self.deps = []        # (command name, install name, weak?)
        self.rpaths = []
        self.ident = None
        self.minos = None     # (packed version, "LC_BUILD_VERSION" | "LC_VERSION_MIN_MACOSX")
        self.codesig = None   # (dataoff, datasize)


def read_slices(path):
    """Every slice of a Mach-O file, or raises ValueError with what is wrong."""
    size = os.path.getsize(path)
    try:
        m = MachO(path)
    except Exception as e:  # macholib raises all sorts on hostile input
        raise ValueError("macholib cannot parse it: %s: %s" % (type(e).__name__, e))
    slices = []
    for h in m.headers:
        end = h.offset + (h.size or size - h.offset)
        if end > size:
            raise ValueError("slice at %#x runs past the end of the file" % h.offset)
        hdr_size = 32 if h.header.magic in (mach_o.MH_MAGIC_64, mach_o.MH_CIGAM_64) else 28
        if h.offset + hdr_size + h.header.sizeofcmds > end:
            raise ValueError("load commands (%d bytes) run past the end of the slice"
                             % h.header.sizeofcmds)
        s = Slice(path, ARCHS.get(h.header.cputype, hex(h.header.cputype)), h.header.filetype,
                  h.offset, end - h.offset)
        total = 0
        for lc, cmd, data in h.commands:
            total += lc.cmdsize
            c = lc.cmd
            if c in STRONG or c in WEAK:
                s.deps.append((STRONG.get(c) or WEAK[c], cstr(data), c in WEAK))
            elif c == mach_o.LC_RPATH:
                s.rpaths.append(cstr(data))
            elif c == mach_o.LC_ID_DYLIB:
                s.ident = cstr(data)
            elif c == mach_o.LC_BUILD_VERSION:
                if cmd.platform == 1:   # PLATFORM_MACOS
                    s.minos = (cmd.minos, "LC_BUILD_VERSION")
            elif c == mach_o.LC_VERSION_MIN_MACOSX:
                if s.minos is None:
                    s.minos = (cmd.version, "LC_VERSION_MIN_MACOSX")
            elif c == mach_o.LC_CODE_SIGNATURE:
                s.codesig = (cmd.dataoff, cmd.datasize)
        if total != h.header.sizeofcmds:
            raise ValueError("load commands add up to %d bytes, sizeofcmds says %d"
                             % (total, h.header.sizeofcmds))
        slices.append(s)
    return slices


def verify_signature(image, dataoff, datasize):
    """Problems with a slice's embedded signature: the SHA-256 CodeDirectory page hashes are
    recomputed over each page of the declared size up to codeLimit."""
    if dataoff + datasize > len(image) or datasize < 12:
        return ["LC_CODE_SIGNATURE (%#x + %#x) lies outside the slice" % (dataoff, datasize)]
    sig = image[dataoff:dataoff + datasize]
    magic, length, count = struct.unpack_from(">III", sig, 0)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        return ["code signature: bad SuperBlob magic %#x" % magic]
    if 12 + 8 * count > len(sig):
        return ["code signature: %d blob indexes do not fit" % count]
    problems, checked = [], 0
    for i in range(count):
        _typ, off = struct.unpack_from(">II", sig, 12 + 8 * i)
        if off + 8 > len(sig):
            problems.append("code signature: blob %d lies outside the signature" % i)
            continue
        bmagic, blen = struct.unpack_from(">II", sig, off)
        if bmagic != CSMAGIC_CODEDIRECTORY:
            continue
        cd = sig[off:off + blen]
        if len(cd) < 44:
            problems.append("code signature: CodeDirectory truncated")
            continue
        (version, _flags, hash_off, _ident_off, _nspecial, ncode,
         limit) = struct.unpack_from(">IIIIIII", cd, 8)
        hsize, htype, _platform, pshift = struct.unpack_from(">BBBB", cd, 36)
        if version >= 0x20300 and len(cd) >= 64:
            limit64 = struct.unpack_from(">Q", cd, 56)[0]
            limit = limit64 or limit
        if htype != CS_HASHTYPE_SHA256:
            continue
        checked += 1
        if limit != dataoff:
            problems.append("code signature: codeLimit %#x is not the signature's offset %#x"
                            % (limit, dataoff))
        page = 1 << pshift if pshift else limit
        want = (limit + page - 1) // page if page else 0
        if ncode != want:
            problems.append("code signature: %d code slots for %d pages" % (ncode, want))
        if hash_off + hsize * ncode > len(cd):
            problems.append("code signature: page hashes run past the CodeDirectory")
            continue
        for k in range(min(ncode, want)):
            got = hashlib.sha256(image[k * page:min((k + 1) * page, limit)]).digest()[:hsize]
            if cd[hash_off + hsize * k:hash_off + hsize * (k + 1)] != got:
                problems.append("code signature: page %d (of %d, %d bytes each) hash mismatch"
                                % (k, ncode, page))
                break
    if not checked and not problems:
        problems.append("code signature: no SHA-256 CodeDirectory")
    return problems


class Oracle:
    def __init__(self, bundle, exe, required_archs=None):
        self.bundle = os.path.realpath(bundle)
        self.exe_rel = exe
        self.exe = os.path.join(self.bundle, exe) if exe else None
        self.required = required_archs
        self.found = {}       # (path, problem) -> [arch]: one line for all slices alike
        self.files = {}       # bundle path -> [Slice]
        self.broken = set()

    # -- reporting --
    def rel(self, p):
        r = os.path.relpath(p, self.bundle)
        return r if not r.startswith("..") else p

    def problem(self, path, msg, arch=None):
        archs = self.found.setdefault((self.rel(path), msg), [])
        if arch and arch not in archs:
            archs.append(arch)

    @property
    def problems(self):
        return ["%s: %s%s" % (p, "[%s] " % ",".join(sorted(a)) if a else "", m)
                for (p, m), a in self.found.items()]

    # -- the walk --
    def inside(self, p):
        """Whether p, with every link resolved, lies inside the bundle."""
        r = os.path.realpath(p)
        return r == self.bundle or r.startswith(self.bundle + os.sep)

    def scan(self):
        for d, dirs, names in os.walk(self.bundle):
            dirs.sort()
            for n in sorted(names) + sorted(x for x in dirs if os.path.islink(os.path.join(d, x))):
                p = os.path.join(d, n)
                if os.path.islink(p):
                    if not os.path.exists(p):
                        self.problem(p, "symbolic link to %s leads nowhere" % os.readlink(p))
                    elif not self.inside(p):
                        self.problem(p, "symbolic link to %s leaves the bundle" % os.readlink(p))
                    continue
                if not os.path.isfile(p):
                    continue
                with open(p, "rb") as f:
                    head = f.read(8)
                if head[:4] not in MAGICS:
                    continue
                if head[:4] == b"\xca\xfe\xba\xbe" and struct.unpack(">I", head[4:8])[0] > 30:
                    continue   # a Java class file, not a fat Mach-O
                try:
                    self.files[p] = read_slices(p)
                except (ValueError, OSError, struct.error) as e:
                    self.problem(p, "not a valid Mach-O: %s" % e)
                    self.broken.add(p)

    def slice_of(self, path, arch):
        real = os.path.realpath(path)
        for s in self.files.get(real, []):
            if s.arch == arch:
                return s
        return None

    def expand(self, s, img, exe_dir):
        if s.startswith("@loader_path"):
            return os.path.dirname(img) + s[len("@loader_path"):]
        if s.startswith("@executable_path"):
            return exe_dir + s[len("@executable_path"):]
        return s

    def rpath_ok(self, rp, img, exe_dir):
        """Why an LC_RPATH of img is outside the bundle, or None."""
        if rp.startswith("@loader_path") or rp.startswith("@executable_path"):
            if rp.startswith("@executable_path") and exe_dir is None:
                return "uses @executable_path but the bundle has no main executable"
            t = os.path.normpath(self.expand(rp, img, exe_dir))
            return None if self.inside(t) else "climbs out of the bundle (to %s)" % self.rel(t)
        if rp.startswith("@"):
            return "starts with an unknown @ prefix"
        if rp.startswith("/"):
            return None if is_system(rp.rstrip("/") + "/") else "is an absolute path outside the bundle"
        return "is relative to the current directory"

    def resolve(self, name, chain, arch, exe_dir):
        """(path inside the bundle | "system", None) or (None, why) for a dependency of chain[0]."""
        img = chain[0]
        if name.startswith("@rpath/"):
            tried = []
            for loader in chain:
                s = self.slice_of(loader, arch) or (self.files.get(os.path.realpath(loader)) or [None])[0]
                for rp in (s.rpaths if s else []):
                    if rp.startswith("@executable_path") and exe_dir is None:
                        continue
                    cand = self.expand(rp, loader, exe_dir).rstrip("/") + "/" + name[len("@rpath/"):]
                    tried.append(cand)
                    if cand.startswith("/") and not cand.startswith(self.bundle + "/"):
                        if is_system(cand):
                            return "system", None
                        continue   # an rpath outside the bundle: not a place to find things
                    if not cand.startswith("/"):
                        continue
                    if os.path.isfile(cand) and self.inside(cand):
                        return cand, None
            return None, "no LC_RPATH of %s finds it (tried: %s)" % (
                " -> ".join(self.rel(c) for c in chain),
                ", ".join(self.rel(t) for t in tried) or "none")
        if name.startswith("@executable_path/") and exe_dir is None:
            return None, "uses @executable_path but the bundle has no main executable"
        if name.startswith("@loader_path/") or name.startswith("@executable_path/"):
            cand = self.expand(name, img, exe_dir)
            if not os.path.isfile(cand):
                return None, "no such file (%s)" % self.rel(os.path.normpath(cand))
            if not self.inside(cand):
                return None, "resolves outside the bundle (%s)" % os.path.realpath(cand)
            return cand, None
        if name.startswith("@"):
            return None, "unknown @ prefix"
        if name.startswith("/"):
            return ("system", None) if is_system(name) else (None, "absolute path outside the bundle")
        return None, "relative path (dyld would look in the current directory)"

    def walk_chains(self):
        exe_real = os.path.realpath(self.exe) if self.exe else None
        exe_dir = os.path.dirname(self.exe) if self.exe else None
        archs = sorted({s.arch for ss in self.files.values() for s in ss})
        reached = set()
        for arch in archs:
            roots = []
            if exe_real in self.files:
                roots.append(([self.exe], exe_dir))
            for p, ss in sorted(self.files.items()):
                if p == exe_real:
                    continue
                if p.endswith(".so"):
                    roots.append(([p] + ([self.exe] if self.exe else []), exe_dir))
                elif ss[0].filetype == MH_EXECUTE:
                    roots.append(([p], os.path.dirname(p)))
            seen = set()
            stack = list(roots)
            while stack:
                chain, edir = stack.pop()
                img = chain[0]
                key = (os.path.realpath(img), tuple(os.path.realpath(c) for c in chain[1:]), edir)
                if key in seen or len(chain) > 64:
                    continue
                seen.add(key)
                s = self.slice_of(img, arch)
                if s is None:
                    continue
                reached.add((os.path.realpath(img), arch))
                for cmdname, name, weak in s.deps:
                    got, why = self.resolve(name, chain, arch, edir)
                    if got is None:
                        if not weak:
                            self.problem(img, "%s %s does not resolve: %s" % (cmdname, name, why),
                                         arch)
                        continue
                    if got == "system":
                        continue
                    real = os.path.realpath(got)
                    if real in self.broken:
                        self.problem(img, "%s %s is not a valid Mach-O" % (cmdname, name), arch)
                        continue
                    if real not in self.files:
                        if not weak:
                            self.problem(img, "%s %s resolves to %s, not a Mach-O file"
                                         % (cmdname, name, self.rel(got)), arch)
                        continue
                    if self.slice_of(got, arch) is None:
                        if not self.required or arch in self.required:
                            self.problem(img, "%s %s (%s) has no %s slice"
                                         % (cmdname, name, self.rel(got), arch), arch)
                        continue
                    if any(os.path.realpath(c) == real for c in chain):
                        continue   # a cycle (upward links): dyld loads it once
                    stack.append(([got] + chain, edir))
        # dylibs no chain reaches: as if the main executable had dlopened them
        for p, ss in sorted(self.files.items()):
            for s in ss:
                if (p, s.arch) in reached:
                    continue
                chain = [p] + ([self.exe] if self.exe and p != exe_real else [])
                for cmdname, name, weak in s.deps:
                    got, why = self.resolve(name, chain, s.arch, exe_dir)
                    if got is None and not weak:
                        self.problem(p, "%s %s does not resolve: %s" % (cmdname, name, why), s.arch)

    def static_checks(self):
        exe_dir = os.path.dirname(self.exe) if self.exe else None
        floor, floor_from = 0, None
        for p, ss in sorted(self.files.items()):
            data = None
            for s in ss:
                if s.ident is not None:
                    if s.ident.startswith("@rpath/"):
                        pass
                    elif s.ident.startswith("@"):
                        why = self.rpath_ok(os.path.dirname(s.ident), p, exe_dir)
                        if why:
                            self.problem(p, "LC_ID_DYLIB %s %s" % (s.ident, why), s.arch)
                    else:
                        self.problem(p, "LC_ID_DYLIB %s points outside the bundle" % s.ident, s.arch)
                seen = set()
                for rp in s.rpaths:
                    if rp in seen:
                        self.problem(p, "LC_RPATH %s appears twice" % rp, s.arch)
                    seen.add(rp)
                    why = self.rpath_ok(rp, p, exe_dir)
                    if why:
                        self.problem(p, "LC_RPATH %s %s" % (rp, why), s.arch)
                if s.minos and s.minos[0] > floor:
                    floor, floor_from = s.minos[0], p
                if s.codesig is None:
                    if s.arch == "arm64":
                        self.problem(p, "no code signature", s.arch)
                    continue
                if data is None:
                    with open(p, "rb") as f:
                        data = f.read()
                image = data[s.offset:s.offset + s.size]
                for msg in verify_signature(image, *s.codesig):
                    self.problem(p, msg, s.arch)
        self.floor = version_str(floor) if floor else None
        self.floor_from = floor_from

    def check_expect(self, expect):
        want = expect.get("macos_floor")
        if want is not None and self.floor != want:
            self.problem(self.bundle, "macos floor is %s (from %s), expected %s"
                         % (self.floor, self.floor_from and self.rel(self.floor_from), want))
        archs = expect.get("archs")
        if archs and self.exe:
            exe_archs = sorted(s.arch for s in self.files.get(os.path.realpath(self.exe), []))
            if exe_archs != sorted(archs):
                self.problem(self.exe, "has archs %s, expected %s" % (exe_archs, sorted(archs)))
            for p, ss in sorted(self.files.items()):
                have = {s.arch for s in ss}
                for a in archs:
                    if a not in have:
                        self.problem(p, "has no %s slice (has %s)" % (a, ", ".join(sorted(have))))
        sm = os.path.join(self.bundle, "shenzi-manifest.json")
        if os.path.exists(sm):
            try:
                with open(sm) as f:
                    got = json.load(f).get("macos_floor")
            except (ValueError, OSError) as e:
                got = "unreadable (%s)" % e
            if got != self.floor:
                self.problem(sm, "macos_floor is %r, the bundle's slices need %r" % (got, self.floor))

    def run(self, expect=None):
        if self.exe and not os.path.isfile(self.exe):
            self.problem(self.exe, "the main executable does not exist")
        self.scan()
        if self.exe and os.path.realpath(self.exe) in self.files:
            if any(s.filetype != MH_EXECUTE for s in self.files[os.path.realpath(self.exe)]):
                self.problem(self.exe, "the main executable is not an MH_EXECUTE")
        self.walk_chains()
        self.static_checks()
        if expect is not None:
            self.check_expect(expect)
        return self.problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundle")
    ap.add_argument("--exe", help="the main executable, relative to BUNDLE")
    ap.add_argument("--expect", help="expect.json: exe, macos_floor, archs")
    a = ap.parse_args(argv)
    expect = json.load(open(a.expect)) if a.expect else None
    exe = a.exe or (expect or {}).get("exe")
    o = Oracle(a.bundle, exe, (expect or {}).get("archs"))
    problems = o.run(expect)
    for line in problems:
        print(line)
    nslices = sum(len(v) for v in o.files.values())
    print("oracle: %d Mach-O files, %d slices, macos floor %s%s; %d problem%s"
          % (len(o.files), nslices, o.floor,
             " (from %s)" % o.rel(o.floor_from) if o.floor_from else "",
             len(problems), "" if len(problems) == 1 else "s"), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
