#!/usr/bin/env python3
"""Assembles one recorded macOS Python installation of the corpus (called by build.sh).

  layout.py LAYOUT OUT WHEELS

LAYOUT is pyorg, homebrew, pyenv, venv or errors. Writes OUT/<layout>/root/ (the files at
their macOS paths), OUT/<layout>/manifest.json (the observation `shenzi observe` would have
written on the Mac) and OUT/<layout>/expect.json (what the oracle expects of a correct bundle);
`errors` writes OUT/errors/<case>/ likewise. Binaries are compiled here with clang-19/lld from
src/; the wheels are installed from WHEELS (downloaded by build.sh) with pip.
The dyld image list of the manifest is computed by following the load commands the way dyld
does (see oracle.py for the rules), inside root/.
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

from macholib import mach_o
from macholib.MachO import MachO

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
CC = os.environ.get("CC", "clang-19")
LIPO = os.environ.get("LIPO", "llvm-lipo-19")
PY = "3.11"
EXT = ".cpython-311-darwin.so"
PROJ = "/Users/dev/proj"
MAC_VERSION = "14.5"

# The images libSystem brings in on a real Mac (they show in dyld's image list; none is a file
# on disk there, all come from the shared cache).
LIBSYSTEM_CHILDREN = [
    "/usr/lib/libSystem.B.dylib", "/usr/lib/libc++.1.dylib", "/usr/lib/libc++abi.dylib",
    "/usr/lib/libobjc.A.dylib", "/usr/lib/system/libdyld.dylib",
    "/usr/lib/system/libsystem_c.dylib", "/usr/lib/system/libsystem_kernel.dylib",
    "/usr/lib/system/libsystem_malloc.dylib", "/usr/lib/system/libsystem_platform.dylib",
    "/usr/lib/system/libsystem_pthread.dylib", "/usr/lib/system/libxpc.dylib",
]
SYSTEM_PREFIXES = ("/usr/lib/", "/System/Library/")

# --- compiling ---------------------------------------------------------------------------

class Tc:
    """One clang target (arch + minimum macOS) with its stub libSystem."""

    def __init__(self, build, arch, minos):
        self.arch, self.minos = arch, minos
        self.triple = "%s-apple-macos%s" % (arch, minos)
        self.dir = os.path.join(build, "tc-%s-%s" % (arch, minos))
        os.makedirs(self.dir, exist_ok=True)
        self.libsystem = os.path.join(self.dir, "libSystem.B.dylib")
        if not os.path.exists(self.libsystem):
            self.link(self.libsystem, ["libsystem_stub.c"], "dylib", "/usr/lib/libSystem.B.dylib",
                      libsystem=False)

    def link(self, out, srcs, kind, install_name=None, libs=(), flags=(), libsystem=True,
             defines=()):
        cmd = [CC, "-target", self.triple, "-fuse-ld=lld", "-nostdlib", "-O1", "-o", out]
        cmd += {"dylib": ["-shared"], "bundle": ["-bundle"], "exe": []}[kind]
        cmd += ["-D%s" % d for d in defines]
        cmd += [os.path.join(SRC, s) for s in srcs]
        if install_name:
            cmd += ["-Wl,-install_name," + install_name]
        if libsystem:
            cmd.append(self.libsystem)
        cmd += list(libs) + list(flags)
        subprocess.run(cmd, check=True)
        return out


def lipo(out, *slices):
    subprocess.run([LIPO, "-create", *slices, "-output", out], check=True)
    return out

# --- Mach-O byte edits the linker will not make ------------------------------------------

def rehash_signature(path):
    """Recomputes the code-page hashes of a (thin) file's linker signature after an edit."""
    data = bytearray(open(path, "rb").read())
    ncmds, sizeofcmds = struct.unpack_from("<II", data, 16)
    off = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, off)
        if cmd == mach_o.LC_CODE_SIGNATURE:
            dataoff, _datasize = struct.unpack_from("<II", data, off + 8)
            _m, _l, count = struct.unpack_from(">III", data, dataoff)
            for i in range(count):
                _t, boff = struct.unpack_from(">II", data, dataoff + 12 + 8 * i)
                cd = dataoff + boff
                if struct.unpack_from(">I", data, cd)[0] != 0xFADE0C02:
                    continue
                hash_off, _io, _ns, n_code, limit = struct.unpack_from(">IIIII", data, cd + 16)
                hsize, htype, _p, pshift = struct.unpack_from(">BBBB", data, cd + 36)
                algo = {1: hashlib.sha1, 2: hashlib.sha256}[htype]
                page = 1 << pshift
                for k in range(n_code):
                    h = algo(bytes(data[k * page:min((k + 1) * page, limit)])).digest()[:hsize]
                    data[cd + hash_off + hsize * k:cd + hash_off + hsize * (k + 1)] = h
        off += size
    open(path, "wb").write(data)


def rename_rpath(path, old, new):
    """Rewrites one LC_RPATH string in place (same command size) and re-signs the file."""
    data = bytearray(open(path, "rb").read())
    ncmds = struct.unpack_from("<I", data, 16)[0]
    off, done = 32, False
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, off)
        if cmd == mach_o.LC_RPATH:
            s = struct.unpack_from("<I", data, off + 8)[0]
            raw = bytes(data[off + s:off + size]).split(b"\0", 1)[0]
            if raw == old.encode():
                assert len(new) < size - s
                data[off + s:off + size] = new.encode().ljust(size - s, b"\0")
                done = True
        off += size
    assert done, (path, old)
    open(path, "wb").write(data)
    rehash_signature(path)


def header_room(path):
    """Bytes between the end of the load commands and the first section's contents."""
    m = MachO(path)
    h = m.headers[0]
    end = 32 + h.header.sizeofcmds
    first = min(s.offset for lc, cmd, data in h.commands
                if lc.cmd == mach_o.LC_SEGMENT_64 for s in data if s.offset)
    return first - end

# --- the tree ----------------------------------------------------------------------------

class Tree:
    def __init__(self, root):
        self.root = root

    def host(self, p):
        return self.root + p

    def mkdir(self, p):
        os.makedirs(self.host(p), exist_ok=True)

    def write(self, p, text):
        self.mkdir(os.path.dirname(p))
        with open(self.host(p), "w") as f:
            f.write(text)

    def put(self, p, built, mode=0o755):
        self.mkdir(os.path.dirname(p))
        shutil.copyfile(built, self.host(p))
        os.chmod(self.host(p), mode)

    def link(self, p, target):
        self.mkdir(os.path.dirname(p))
        if os.path.lexists(self.host(p)):
            os.unlink(self.host(p))
        os.symlink(target, self.host(p))

    def real(self, p, depth=0):
        """realpath of a macOS path inside the tree (absolute links stay inside root/)."""
        assert depth < 40, p
        cur = "/"
        for part in p.strip("/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                cur = os.path.dirname(cur)
                continue
            nxt = os.path.join(cur, part)
            if os.path.islink(self.host(nxt)):
                t = os.readlink(self.host(nxt))
                cur = self.real(t if t.startswith("/") else os.path.join(cur, t), depth + 1)
            else:
                cur = nxt
        return cur

    def exists(self, p):
        return os.path.exists(self.host(self.real(p)))


STDLIB = [
    "abc.py", "codecs.py", "io.py", "os.py", "stat.py", "posixpath.py", "genericpath.py",
    "_collections_abc.py", "_sitebuiltins.py", "site.py", "types.py", "enum.py", "functools.py",
    "operator.py", "keyword.py", "reprlib.py", "copyreg.py", "warnings.py", "weakref.py",
    "_weakrefset.py", "collections/__init__.py", "re/__init__.py", "re/_compiler.py",
    "re/_parser.py", "re/_constants.py", "re/_casefix.py", "encodings/__init__.py",
    "encodings/aliases.py", "encodings/utf_8.py", "json/__init__.py", "json/decoder.py",
    "json/encoder.py", "json/scanner.py", "ssl.py", "socket.py", "selectors.py", "base64.py",
    "struct.py", "hashlib.py", "random.py", "bisect.py", "contextlib.py",
    "_sysconfigdata__darwin_darwin.py",
    # on disk, not imported by the apps
    "pathlib.py", "fnmatch.py", "ntpath.py", "textwrap.py", "typing.py", "sysconfig.py",
    "urllib/__init__.py", "urllib/parse.py", "subprocess.py",
]
STDLIB_NOT_IMPORTED = {"pathlib", "fnmatch", "ntpath", "textwrap", "typing", "sysconfig",
                       "urllib", "urllib.parse", "subprocess"}
PLAIN_DYNLOAD = ["_json", "math", "_struct", "binascii", "_random", "_bisect", "select",
                 "_socket", "_sha512", "_posixsubprocess", "_datetime", "_contextvars"]
DYNLOAD_NOT_IMPORTED = {"_posixsubprocess", "_datetime", "_contextvars"}
BUILTIN_MODULES = ["sys", "builtins", "_imp", "_thread", "_warnings", "_weakref", "_io",
                   "marshal", "posix", "_frozen_importlib", "_frozen_importlib_external", "time",
                   "zipimport", "_codecs", "_signal", "_abc", "_stat", "itertools", "_functools",
                   "_collections", "_operator", "_sre", "_locale", "errno"]


class Python:
    """One CPython 3.11 installation being assembled: what it is, where, how built."""

    def __init__(self, tree, build, tc, prefix, version):
        self.tree, self.build, self.tc = tree, build, tc
        self.prefix, self.version = prefix, version     # prefix: as sys.prefix says
        self.stdlib = prefix + "/lib/python" + PY
        os.makedirs(build, exist_ok=True)

    def out(self, name):
        return os.path.join(self.build, name)

    def pylib(self, install_name):
        return self.tc.link(self.out("libpython.dylib"), ["libpython.c"], "dylib", install_name,
                            defines=['PY_VERSION="%s"' % self.version])

    def openssl(self, ssl_id, crypto_id):
        crypto = self.tc.link(self.out("libcrypto.3.dylib"), ["libcrypto.c"], "dylib", crypto_id,
                              flags=["-Wl,-current_version,3.3.1", "-Wl,-compatibility_version,3.0.0"])
        ssl = self.tc.link(self.out("libssl.3.dylib"), ["libssl.c"], "dylib", ssl_id, libs=[crypto],
                           flags=["-Wl,-current_version,3.3.1", "-Wl,-compatibility_version,3.0.0"])
        return ssl, crypto

    def write_stdlib(self, dest, framework_vars):
        """dest: the stdlib dir's real path in the tree; placeholders plus sysconfigdata."""
        for rel in STDLIB:
            text = "# Placeholder for CPython %s's Lib/%s (shenzi corpus).\n" % (self.version, rel)
            if rel == "_sysconfigdata__darwin_darwin.py":
                text = "# system configuration generated and used by the sysconfig module\n" \
                       "build_time_vars = %s\n" % json.dumps(framework_vars, indent=1, sort_keys=True)
            self.tree.write(dest + "/" + rel, text)
        self.tree.mkdir(dest + "/site-packages")
        self.tree.write(dest + "/site-packages/README.txt",
                        "This directory exists so that 3rd party packages can be installed\n"
                        "here.  Read the source for site.py for more details.\n")

    def dynload(self, dest, pylib, ssl, crypto):
        """lib-dynload modules; _ssl links pylib (by its id) and libssl; _hashlib libcrypto."""
        d = self.out("dynload")
        os.makedirs(d, exist_ok=True)
        lookup = ["-Wl,-undefined,dynamic_lookup"]
        for name in PLAIN_DYNLOAD:
            b = self.tc.link(os.path.join(d, name + EXT), ["mod_plain.c"], "bundle",
                             flags=lookup, defines=["MODNAME=" + name])
            self.tree.put(dest + "/" + name + EXT, b)
        b = self.tc.link(os.path.join(d, "_ssl" + EXT), ["mod_ssl.c"], "bundle", libs=[pylib, ssl])
        self.tree.put(dest + "/_ssl" + EXT, b)
        b = self.tc.link(os.path.join(d, "_hashlib" + EXT), ["mod_hashlib.c"], "bundle",
                         libs=[crypto], flags=lookup)
        self.tree.put(dest + "/_hashlib" + EXT, b)

    def stdlib_modules(self):
        """sys.modules entries for the stdlib (paths as the interpreter reports them)."""
        mods = {n: None for n in BUILTIN_MODULES}
        for rel in STDLIB:
            name = rel[:-3].replace("/", ".")
            if name.endswith(".__init__"):
                name = name[:-9]
            if name not in STDLIB_NOT_IMPORTED:
                mods[name] = self.stdlib + "/" + rel
        mods["os.path"] = self.stdlib + "/posixpath.py"
        for name in PLAIN_DYNLOAD + ["_ssl", "_hashlib"]:
            if name not in DYNLOAD_NOT_IMPORTED:
                mods[name] = self.stdlib + "/lib-dynload/" + name + EXT
        return mods


def sysconfig_vars(prefix, version, framework_prefix, ldlibrary, minos):
    return {
        "prefix": prefix, "exec_prefix": prefix, "LIBDIR": prefix + "/lib",
        "LDLIBRARY": ldlibrary, "EXT_SUFFIX": EXT, "SOABI": "cpython-311-darwin",
        "PYTHONFRAMEWORK": "Python" if framework_prefix else "",
        "PYTHONFRAMEWORKPREFIX": framework_prefix or "",
        "PYTHONFRAMEWORKDIR": "Python.framework" if framework_prefix else "no-framework",
        "MACOSX_DEPLOYMENT_TARGET": minos, "VERSION": PY, "py_version": version,
    }


def info_plist(ident, executable, version):
    return """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleDevelopmentRegion</key>
	<string>English</string>
	<key>CFBundleExecutable</key>
	<string>%s</string>
	<key>CFBundleIdentifier</key>
	<string>%s</string>
	<key>CFBundleInfoDictionaryVersion</key>
	<string>6.0</string>
	<key>CFBundleName</key>
	<string>Python</string>
	<key>CFBundlePackageType</key>
	<string>%s</string>
	<key>CFBundleShortVersionString</key>
	<string>%s</string>
	<key>CFBundleVersion</key>
	<string>%s</string>
</dict>
</plist>
""" % (executable, ident, "APPL" if executable == "Python" and "app" in ident else "FMWK",
       version, version)


def framework(tree, build, tc, fw_dir, fw_id_dir, version, ssl_ids=None, ssl_dir=None,
              app_tc=None):
    """A Python.framework whose Versions/3.11 is at fw_dir (real path in the tree); install
    names use fw_id_dir (the path programs link it by). OpenSSL: inside the framework's lib/
    unless ssl_ids/ssl_dir say otherwise. app_tc builds Python.app's interpreter (errors/)."""
    py = Python(tree, build, tc, fw_id_dir, version)
    fw_id = fw_id_dir + "/Python"
    pylib = py.pylib(fw_id)
    tree.put(fw_dir + "/Python", pylib)
    fwroot = os.path.dirname(os.path.dirname(fw_dir))
    tree.link(fwroot + "/Versions/Current", PY)
    for n in ("Python", "Resources", "Headers"):
        tree.link(fwroot + "/" + n, "Versions/Current/" + n)
    tree.link(fw_dir + "/Headers", "include/python" + PY)
    tree.write(fw_dir + "/include/python%s/Python.h" % PY, "/* Placeholder for Python.h. */\n")
    tree.write(fw_dir + "/Resources/Info.plist", info_plist("org.python.python", "Python", version))
    app = fw_dir + "/Resources/Python.app/Contents"
    tree.write(app + "/Info.plist", info_plist("org.python.python.app", "Python", version))
    tree.write(app + "/PkgInfo", "APPL????")
    app_lib = pylib
    if app_tc is not None:   # a twin of the framework for the other arch, to link against
        app_lib = app_tc.link(py.out("libpython-%s.dylib" % app_tc.arch), ["libpython.c"],
                              "dylib", fw_id, defines=['PY_VERSION="%s"' % version])
    main = (app_tc or tc).link(py.out("Python.app-Python"), ["python_main.c"], "exe",
                               libs=[app_lib])
    tree.put(app + "/MacOS/Python", main)
    stub = tc.link(py.out("python3.11"), ["launcher.c"], "exe", libs=[pylib])
    tree.put(fw_dir + "/bin/python" + PY, stub)
    tree.link(fw_dir + "/bin/python3", "python" + PY)
    tree.link(fw_dir + "/lib/libpython%s.dylib" % PY, "../Python")
    if ssl_ids is None:
        ssl_ids = (fw_id_dir + "/lib/libssl.3.dylib", fw_id_dir + "/lib/libcrypto.3.dylib")
        ssl_dir = fw_dir + "/lib"
    ssl, crypto = py.openssl(*ssl_ids)
    tree.put(ssl_dir + "/libssl.3.dylib", ssl)
    tree.put(ssl_dir + "/libcrypto.3.dylib", crypto)
    fwprefix = os.path.dirname(os.path.dirname(os.path.dirname(fw_id_dir)))
    stdlib_real = fw_dir + "/lib/python" + PY
    py.write_stdlib(stdlib_real, sysconfig_vars(fw_id_dir, version, fwprefix,
                                                "Python.framework/Versions/%s/Python" % PY, tc.minos))
    py.dynload(stdlib_real + "/lib-dynload", pylib, ssl, crypto)
    py.fwprefix = fwprefix
    py.main_image = fw_dir + "/Resources/Python.app/Contents/MacOS/Python"
    return py

# --- wheels --------------------------------------------------------------------------------

def pip_install(wheels, site, platforms, reqs):
    """pip install --platform … --target SITE --no-deps, from the downloaded wheels only."""
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-index", "--find-links", wheels, "--only-binary=:all:", "--no-deps",
           "--python-version", PY, "--implementation", "cp", "--target", site, "--upgrade"]
    for p in platforms:
        cmd += ["--platform", p]
    subprocess.run(cmd + list(reqs), check=True)
    # console scripts go to the prefix's bin/ in a real install, not into site-packages
    shutil.rmtree(os.path.join(site, "bin"), ignore_errors=True)


def package_modules(tree, site, names):
    """sys.modules entries for the named (sub)modules of installed packages, with parents
    (found in the order of CPython's FileFinder: package, extension, source)."""
    mods = {}
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            n = ".".join(parts[:i])
            base = site + "/" + "/".join(parts[:i])
            for cand in (base + "/__init__.py", base + EXT, base + ".abi3.so", base + ".py"):
                if tree.exists(cand):
                    mods[n] = cand
                    break
            else:
                raise SystemExit("layout.py: no module %s under %s" % (n, site))
    return mods

# --- dyld's image list -------------------------------------------------------------------

def slice_info(path, arch):
    """(deps, rpaths) of the slice for arch: deps as (kind, name)."""
    m = MachO(path)
    hs = [h for h in m.headers
          if {0x0100000C: "arm64", 0x01000007: "x86_64"}.get(h.header.cputype) == arch]
    for h in hs or m.headers[:1]:   # errors/arch-mismatch: follow the slice there is
        deps, rpaths = [], []
        for lc, cmd, data in h.commands:
            if lc.cmd in (mach_o.LC_LOAD_DYLIB, mach_o.LC_REEXPORT_DYLIB,
                          mach_o.LC_LOAD_UPWARD_DYLIB, mach_o.LC_LOAD_WEAK_DYLIB):
                deps.append((lc.cmd == mach_o.LC_LOAD_WEAK_DYLIB,
                             data.split(b"\0", 1)[0].decode()))
            elif lc.cmd == mach_o.LC_RPATH:
                rpaths.append(data.split(b"\0", 1)[0].decode())
        return deps, rpaths


def image_list(tree, main, extensions, arch, exe_path):
    """What dyld's image list holds after the main image and the extensions are loaded:
    real paths. Unreadable or missing images are left out (errors/ needs that)."""
    loaded = set()
    exe_dir = os.path.dirname(exe_path)

    def expand(s, img):
        return s.replace("@loader_path", os.path.dirname(img)).replace("@executable_path", exe_dir)

    def resolve(name, chain):
        if name.startswith("@rpath/"):
            for img in chain:
                for rp in info(img)[1]:
                    cand = expand(rp, img) + name[6:]
                    if cand.startswith(SYSTEM_PREFIXES) or tree.exists(cand):
                        return cand
            return None
        cand = expand(name, chain[0])
        return cand if cand.startswith(SYSTEM_PREFIXES) or tree.exists(cand) else None

    cache = {}

    def info(img):
        if img not in cache:
            try:
                cache[img] = slice_info(tree.host(tree.real(img)), arch)
            except Exception:
                cache[img] = ([], [])
        return cache[img]

    def load(img, chain):
        if img.startswith(SYSTEM_PREFIXES):
            loaded.update(LIBSYSTEM_CHILDREN if img == "/usr/lib/libSystem.B.dylib" else [img])
            return
        real = tree.real(img)
        chain = [img] + chain
        if (real, tuple(chain[1:2])) in seen:
            return
        seen.add((real, tuple(chain[1:2])))
        loaded.add(real)
        for weak, name in info(img)[0]:
            got = resolve(name, chain)
            if got:
                load(got, chain)

    seen = set()
    load(main, [])
    for ext in extensions:
        load(ext, [exe_path])
    return sorted(loaded)

# --- the manifest ------------------------------------------------------------------------

def manifest(machine, py, executable, real_exe, modules, shared, script, macos, env=None,
             prefix=None, site=None, ldlibrary=None, libdir=None):
    prefix = prefix or py.prefix
    return {
        "format": "shenzi-observation", "version": 2, "platform": "macos", "machine": machine,
        "entry": {"kind": "script", "script": script, "module": None, "args": []},
        "cwd": PROJ, "exit_code": 0,
        "python": {
            "executable": executable, "real_executable": real_exe, "version": py.version,
            "abiflags": "", "prefix": prefix, "base_prefix": py.prefix, "exec_prefix": prefix,
            "base_exec_prefix": py.prefix, "platlibdir": "lib",
            "path": [PROJ, py.prefix + "/lib/python311.zip", py.stdlib,
                     py.stdlib + "/lib-dynload", site],
            "stdlib": py.stdlib, "platstdlib": prefix + "/lib/python" + PY,
            "purelib": site, "platlib": site, "site_packages": [site], "user_site": None,
            "ext_suffix": EXT, "ldlibrary": ldlibrary or "Python.framework/Versions/3.11/Python",
            "libdir": libdir or py.prefix + "/lib",
        },
        "macos": macos, "env": env or {}, "modules": dict(sorted(modules.items())),
        "shared_objects": shared, "dlopen": [],
        "processes": [{"pid": 100, "ppid": 1, "argv": [script], "main": True}],
    }


def macos_facts(py, archs, framework=True):
    return {"version": MAC_VERSION, "framework": "Python" if framework else None,
            "framework_prefix": py.fwprefix if framework else None,
            "main_image": py.main_image, "interpreter_archs": archs}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def minos_of(tree, images):
    """Highest minimum macOS over all slices of the given real paths (the loaded images)."""
    best, who = (0, 0, 0), None
    for img in images:
        if img.startswith(SYSTEM_PREFIXES) or not tree.exists(img):
            continue
        try:
            m = MachO(tree.host(img))
        except Exception:
            continue
        for h in m.headers:
            for lc, cmd, data in h.commands:
                v = None
                if lc.cmd == mach_o.LC_BUILD_VERSION:
                    v = cmd.minos
                elif lc.cmd == mach_o.LC_VERSION_MIN_MACOSX:
                    v = cmd.version
                if v is not None:
                    t = (v >> 16, (v >> 8) & 255, v & 255)
                    if t > best:
                        best, who = t, img
    s = "%d.%d" % best[:2] + (".%d" % best[2] if best[2] else "")
    return s, who


def app_script(layout, imports):
    return ('"""The corpus app of the %s layout: imports what this installation has."""\n'
            % layout) + "".join("import %s\n" % i for i in imports) + \
        'print("ok", %s)\n' % ", ".join(i.split(".")[0] for i in imports[:3])


def finish(out, tree, py, machine, executable, real_exe, mods, main_exe, exe_rel, archs,
           extra_images=(), note="", env=None, prefix=None, site=None, framework=True,
           ldlibrary=None, libdir=None, imports=("json",), layout=""):
    """Writes app.py, manifest.json and expect.json for an assembled tree."""
    tree.write(PROJ + "/app.py", app_script(layout, list(imports)))
    mods = dict(mods)
    mods["__main__"] = PROJ + "/app.py"
    exts = sorted(p for p in mods.values() if p and p.endswith(".so"))
    shared = image_list(tree, main_exe, exts, machine, main_exe)
    for img in shared:
        if img.startswith(SYSTEM_PREFIXES):
            assert not os.path.lexists(tree.host(img)), img
    m = manifest(machine, py, executable, real_exe, mods, shared, PROJ + "/app.py",
                 macos_facts(py, archs, framework), env=env, prefix=prefix, site=site,
                 ldlibrary=ldlibrary, libdir=libdir)
    write_json(os.path.join(out, "manifest.json"), m)
    floor, who = minos_of(tree, shared)
    write_json(os.path.join(out, "expect.json"), {
        "exe": exe_rel, "macos_floor": floor, "archs": archs,
        "comment": "macos_floor: the highest LC_BUILD_VERSION minos (else LC_VERSION_MIN_MACOSX) "
                   "over every slice of every image in the manifest's shared_objects that is a "
                   "file (the loaded images a correct bundle carries); here from %s. %s"
                   % (who, note)})
    return m

# --- the layouts -------------------------------------------------------------------------

NUMPY_MODS = ["numpy", "numpy.version", "numpy._globals", "numpy._distributor_init",
              "numpy.core", "numpy.core._multiarray_umath", "numpy.core.multiarray",
              "numpy.core.umath", "numpy.core.numeric", "numpy.linalg", "numpy.linalg.linalg",
              "numpy.linalg._umath_linalg", "numpy.linalg.lapack_lite", "numpy.fft",
              "numpy.fft._pocketfft_internal", "numpy.random", "numpy.random.mtrand",
              "numpy.random.bit_generator", "numpy.random._common",
              "numpy.random._bounded_integers", "numpy.random._mt19937",
              "numpy.random._pcg64", "numpy.random._philox", "numpy.random._sfc64",
              "numpy.random._generator"]
PIL_MODS = ["PIL", "PIL.Image", "PIL._imaging", "PIL.ImageMode", "PIL.TiffTags", "PIL._binary",
            "PIL._util", "PIL._deprecate", "PIL._version", "PIL.ExifTags", "PIL._typing",
            "PIL.ImageFont", "PIL._imagingft", "PIL.ImageCms", "PIL._imagingcms",
            "PIL.WebPImagePlugin", "PIL._webp"]
SCIPY_MODS = ["scipy", "scipy._lib", "scipy._lib._ccallback_c", "scipy._lib._fpumode",
              "scipy._lib.messagestream", "scipy.linalg", "scipy.linalg._fblas",
              "scipy.linalg._flapack", "scipy.linalg.cython_blas", "scipy.linalg.cython_lapack",
              "scipy.linalg._cythonized_array_utils", "scipy.linalg._decomp_lu_cython",
              "scipy.linalg._decomp_update", "scipy.linalg._solve_toeplitz",
              "scipy.linalg._matfuncs_sqrtm_triu", "scipy.linalg._matfuncs_expm",
              "scipy.special", "scipy.special._ufuncs", "scipy.special._ufuncs_cxx",
              "scipy.special._specfun", "scipy.special._comb", "scipy.special._ellip_harm_2",
              "scipy.integrate", "scipy.integrate._quadpack", "scipy.integrate._odepack",
              "scipy.optimize", "scipy.optimize._lbfgsb"]
LXML_MODS = ["lxml", "lxml.etree", "lxml._elementpath"]
CRYPTO_MODS = ["cryptography", "cryptography.__about__", "cryptography.utils",
               "cryptography.exceptions", "cryptography.fernet", "cryptography.hazmat",
               "cryptography.hazmat.bindings", "cryptography.hazmat.bindings._rust",
               "cryptography.hazmat.bindings.openssl",
               "cryptography.hazmat.bindings.openssl.binding", "cryptography.hazmat.primitives",
               "_cffi_backend"]

ARM = ["macosx_11_0_arm64", "macosx_12_0_arm64"]   # scipy 1.13.1's arm64 wheel says 12.0
X86 = ["macosx_10_9_x86_64", "macosx_10_10_x86_64"]  # pillow 10.3.0's x86_64 wheel says 10.10
UNI = ["macosx_10_9_universal2", "macosx_10_12_universal2"]  # cryptography 42.0.5: 10.12
ARM_WHEELS = ["numpy==1.26.4", "scipy==1.13.1", "pillow==10.3.0", "lxml==5.2.2",
              "cryptography==42.0.5", "cffi==1.16.0"]
HOMEBREW_WHEELS = ["numpy==1.26.4", "pillow==10.3.0"]
X86_WHEELS = ["numpy==1.26.4", "pillow==10.3.0", "lxml==5.2.2"]
UNI_WHEELS = ["cryptography==42.0.5", "markupsafe==2.1.5", "charset-normalizer==3.3.2"]
CFFI_ARM = ["cffi==1.16.0"]  # no universal2 cffi wheel exists: pip on an arm64 Mac takes this

FW = "/Library/Frameworks/Python.framework/Versions/3.11"
FW_MAIN_REL = "python/Resources/Python.app/Contents/MacOS/Python"


def pyorg_framework(tree, build, app_tc=None):
    tc = Tc(build, "arm64", "11.0")
    py = framework(tree, build + "/fw", tc, FW, FW, "3.11.9", app_tc=app_tc)
    tree.link("/usr/local/bin/python3.11", "../../../Library/Frameworks/Python.framework/Versions/3.11/bin/python3.11")
    tree.link("/usr/local/bin/python3", "python3.11")
    return py, tc


def do_pyorg(out, build, wheels):
    tree = Tree(out + "/root")
    py, _ = pyorg_framework(tree, build)
    site = py.stdlib + "/site-packages"
    pip_install(wheels + "/arm64", tree.host(site), ARM, ARM_WHEELS)
    mods = py.stdlib_modules()
    mods.update(package_modules(tree, site, NUMPY_MODS + SCIPY_MODS + PIL_MODS + LXML_MODS +
                                CRYPTO_MODS))
    finish(out, tree, py, "arm64", FW + "/bin/python3.11", FW + "/bin/python3.11", mods,
           py.main_image, FW_MAIN_REL, ["arm64"], site=site, layout="pyorg",
           imports=["json", "ssl", "hashlib", "numpy", "scipy.linalg", "scipy.special",
                    "scipy.integrate", "scipy.optimize", "PIL.Image", "PIL.ImageFont",
                    "PIL.ImageCms", "PIL.WebPImagePlugin", "lxml.etree", "cryptography.fernet"])


def do_homebrew(out, build, wheels):
    tree = Tree(out + "/root")
    hb = "/opt/homebrew"
    cellar = hb + "/Cellar/python@3.11/3.11.9"
    fw_real = cellar + "/Frameworks/Python.framework/Versions/3.11"
    fw_opt = hb + "/opt/python@3.11/Frameworks/Python.framework/Versions/3.11"
    ossl = hb + "/Cellar/openssl@3/3.3.1/lib"
    tree.link(hb + "/opt/python@3.11", "../Cellar/python@3.11/3.11.9")
    tree.link(hb + "/opt/openssl@3", "../Cellar/openssl@3/3.3.1")
    # Homebrew bottles for arm64_sonoma are built for macOS 14
    tc = Tc(build, "arm64", "14.0")
    py = framework(tree, build + "/fw", tc, fw_real, fw_opt, "3.11.9",
                   ssl_ids=(hb + "/opt/openssl@3/lib/libssl.3.dylib",
                            hb + "/opt/openssl@3/lib/libcrypto.3.dylib"), ssl_dir=ossl)
    tree.link(ossl + "/libssl.dylib", "libssl.3.dylib")
    tree.link(ossl + "/libcrypto.dylib", "libcrypto.3.dylib")
    tree.link(cellar + "/bin/python3.11", "../Frameworks/Python.framework/Versions/3.11/bin/python3.11")
    tree.link(cellar + "/bin/python3", "python3.11")
    tree.link(hb + "/bin/python3.11", "../Cellar/python@3.11/3.11.9/bin/python3.11")
    tree.link(hb + "/bin/python3", "../Cellar/python@3.11/3.11.9/bin/python3")
    # site-packages lives in the Homebrew prefix (it outlives upgrades); the framework's own
    # site-packages is a link to it
    site = hb + "/lib/python3.11/site-packages"
    cellar_site = fw_real + "/lib/python3.11/site-packages"
    shutil.rmtree(tree.host(cellar_site))
    tree.mkdir(site)
    tree.link(cellar_site, os.path.relpath(site, os.path.dirname(cellar_site)))
    pip_install(wheels + "/arm64", tree.host(site), ARM, HOMEBREW_WHEELS)
    mods = py.stdlib_modules()
    mods.update(package_modules(tree, site, NUMPY_MODS + PIL_MODS))
    finish(out, tree, py, "arm64", hb + "/opt/python@3.11/bin/python3.11",
           fw_real + "/bin/python3.11", mods, py.main_image, FW_MAIN_REL, ["arm64"], site=site,
           layout="homebrew", imports=["json", "ssl", "hashlib", "numpy", "PIL.Image",
                                       "PIL.ImageFont", "PIL.ImageCms", "PIL.WebPImagePlugin"],
           note="Homebrew's interpreter and OpenSSL are built for macOS 14.")


def do_pyenv(out, build, wheels):
    tree = Tree(out + "/root")
    p = "/Users/dev/.pyenv/versions/3.11.7"
    # a local pyenv build on an Intel Mac running macOS 13 (its SDK's version is the target)
    tc = Tc(build, "x86_64", "13.0")
    py = Python(tree, build + "/py", tc, p, "3.11.7")
    pylib = py.pylib(p + "/lib/libpython3.11.dylib")
    tree.put(p + "/lib/libpython3.11.dylib", pylib)
    exe = tc.link(py.out("python3.11"), ["python_main.c"], "exe", libs=[pylib])
    tree.put(p + "/bin/python3.11", exe)
    for n in ("python3", "python"):
        tree.link(p + "/bin/" + n, "python3.11")
    # pyenv links the Homebrew OpenSSL of an Intel Mac (/usr/local)
    hb = "/usr/local"
    ossl = hb + "/Cellar/openssl@3/3.3.1/lib"
    tree.link(hb + "/opt/openssl@3", "../Cellar/openssl@3/3.3.1")
    ssl, crypto = py.openssl(hb + "/opt/openssl@3/lib/libssl.3.dylib",
                             hb + "/opt/openssl@3/lib/libcrypto.3.dylib")
    tree.put(ossl + "/libssl.3.dylib", ssl)
    tree.put(ossl + "/libcrypto.3.dylib", crypto)
    py.write_stdlib(py.stdlib, sysconfig_vars(p, "3.11.7", None, "libpython3.11.dylib", "13.0"))
    py.dynload(py.stdlib + "/lib-dynload", pylib, ssl, crypto)
    py.fwprefix, py.main_image = None, p + "/bin/python3.11"
    site = py.stdlib + "/site-packages"
    pip_install(wheels + "/x86_64", tree.host(site), X86, X86_WHEELS)
    mods = py.stdlib_modules()
    mods.update(package_modules(tree, site, NUMPY_MODS + PIL_MODS + LXML_MODS))
    finish(out, tree, py, "x86_64", p + "/bin/python3", p + "/bin/python3.11", mods,
           py.main_image, "python/bin/python3.11", ["x86_64"], site=site, framework=False,
           ldlibrary="libpython3.11.dylib", layout="pyenv",
           imports=["json", "ssl", "hashlib", "numpy", "PIL.Image", "PIL.ImageFont",
                    "PIL.ImageCms", "PIL.WebPImagePlugin", "lxml.etree"],
           note="The interpreter was built for macOS 13; the wheels need 10.9/10.10.")


def shenzifix(tree, build, site):
    """The hand-made package with the hard cases, universal2 (arm64 11.0 + x86_64 10.13)."""
    pkg = site + "/shenzifix"
    dyl = pkg + "/.dylibs"
    slices = {}
    for arch, minos in (("arm64", "11.0"), ("x86_64", "10.13")):
        tc = Tc(build, arch, minos)
        d = os.path.join(build, "shenzifix-" + arch)
        os.makedirs(d, exist_ok=True)
        o = lambda n: os.path.join(d, n)
        base = tc.link(o("libshenzi_base.dylib"), ["shenzi_base.c"], "dylib",
                       "@rpath/libshenzi_base.dylib")
        # link-time twin of util with the id core should record
        os.makedirs(o("link"), exist_ok=True)
        util_link = tc.link(o("link/libshenzi_util.dylib"), ["shenzi_util.c"], "dylib",
                            "@rpath/libshenzi_util.dylib", libs=[base])
        # the shipped util: the id its build left (stale, absolute) and no header padding
        util = tc.link(o("libshenzi_util.dylib"), ["shenzi_util.c"], "dylib",
                       "/Users/runner/work/build/lib/libshenzi_util.dylib", libs=[base],
                       flags=["-Wl,-headerpad,0"])
        room = header_room(util)
        assert room < 16, "libshenzi_util has %d bytes of header room" % room
        core = tc.link(o("libshenzi_core.dylib"), ["shenzi_core.c"], "dylib",
                       "@rpath/libshenzi_core.dylib",
                       flags=["-Wl,-reexport_library," + util_link, "-Wl,-rpath,@loader_path/",
                              "-Wl,-rpath,@loader_pat_/"])
        rename_rpath(core, "@loader_pat_/", "@loader_path/")   # lld drops a repeated -rpath
        # lld finds core's re-export next to it: link the extension against the twins
        core_link = shutil.copy(core, o("link/libshenzi_core.dylib"))
        optional = tc.link(o("libshenzi_optional.dylib"), ["shenzi_optional.c"], "dylib",
                           "@rpath/libshenzi_optional.dylib")
        ext = tc.link(o("_fix" + EXT), ["shenzifix_ext.c"], "bundle", libs=[core_link],
                      flags=["-Wl,-weak_library," + optional, "-Wl,-undefined,dynamic_lookup",
                             "-Wl,-rpath,/Users/runner/work/build/lib",
                             "-Wl,-rpath,@loader_path/.dylibs"])
        slices[arch] = {"libshenzi_base.dylib": base, "libshenzi_util.dylib": util,
                        "libshenzi_core.dylib": core, "_fix" + EXT: ext}
    for name in slices["arm64"]:
        fat = lipo(os.path.join(build, "shenzifix-" + name), slices["arm64"][name],
                   slices["x86_64"][name])
        tree.put((pkg if name.endswith(".so") else dyl) + "/" + name, fat)
    tree.write(pkg + "/__init__.py", '"""shenzifix: the corpus\'s package of hard cases."""\n'
               "from ._fix import *  # noqa\n")
    di = site + "/shenzifix-0.1.0.dist-info"
    tree.write(di + "/METADATA", "Metadata-Version: 2.1\nName: shenzifix\nVersion: 0.1.0\n")
    tree.write(di + "/WHEEL", "Wheel-Version: 1.0\nGenerator: shenzi-corpus\nRoot-Is-Purelib: false\n"
               "Tag: cp311-cp311-macosx_10_13_universal2\n")
    tree.write(di + "/INSTALLER", "pip\n")
    tree.write(di + "/top_level.txt", "shenzifix\n")
    tree.write(di + "/RECORD", "".join("%s,,\n" % r for r in (
        "shenzifix/__init__.py", "shenzifix/_fix" + EXT, "shenzifix/.dylibs/libshenzi_base.dylib",
        "shenzifix/.dylibs/libshenzi_util.dylib", "shenzifix/.dylibs/libshenzi_core.dylib",
        "shenzifix-0.1.0.dist-info/METADATA", "shenzifix-0.1.0.dist-info/RECORD")))


def do_venv(out, build, wheels):
    tree = Tree(out + "/root")
    py, _ = pyorg_framework(tree, build)
    v = PROJ + "/.venv"
    tree.write(v + "/pyvenv.cfg", "home = %s/bin\ninclude-system-site-packages = false\n"
               "version = 3.11.9\nexecutable = %s/bin/python3.11\n"
               "command = %s/bin/python3.11 -m venv %s\n" % (FW, FW, FW, v))
    tree.link(v + "/bin/python", FW + "/bin/python3.11")
    tree.link(v + "/bin/python3", "python")
    tree.link(v + "/bin/python3.11", "python")
    tree.write(v + "/bin/activate", "# This file must be used with \"source bin/activate\"\n"
               "VIRTUAL_ENV=\"%s\"\nexport VIRTUAL_ENV\n" % v)
    site = v + "/lib/python3.11/site-packages"
    tree.mkdir(site)
    pip_install(wheels + "/universal2", tree.host(site), UNI, UNI_WHEELS)
    pip_install(wheels + "/arm64", tree.host(site), ARM, CFFI_ARM)
    shenzifix(tree, build, site)
    mods = py.stdlib_modules()
    mods.update(package_modules(tree, site, CRYPTO_MODS + [
        "markupsafe", "markupsafe._speedups", "charset_normalizer", "charset_normalizer.md",
        "charset_normalizer.md__mypyc", "shenzifix", "shenzifix._fix"]))
    finish(out, tree, py, "arm64", v + "/bin/python", FW + "/bin/python3.11", mods,
           py.main_image, FW_MAIN_REL, ["arm64"], site=site, prefix=v,
           env={"VIRTUAL_ENV": v}, layout="venv",
           imports=["json", "ssl", "hashlib", "cryptography.fernet", "markupsafe",
                    "charset_normalizer", "shenzifix"],
           note="The universal2 wheels' x86_64 slices (10.9-10.13) are lower.")


def do_errors(out, build, wheels):
    """One small broken installation per error the bundler must report."""
    # (a) the manifest says arm64, the interpreter under root/ has only an x86_64 slice
    case = out + "/arch-mismatch"
    tree = Tree(case + "/root")
    x86 = Tc(build, "x86_64", "10.15")
    py, _ = pyorg_framework(tree, build + "/a", app_tc=x86)
    finish(case, tree, py, "arm64", FW + "/bin/python3.11", FW + "/bin/python3.11",
           py.stdlib_modules(), py.main_image, FW_MAIN_REL, ["arm64"],
           site=py.stdlib + "/site-packages", layout="errors/arch-mismatch")
    write_json(case + "/expect.json", {
        "error": "arch-mismatch", "mentions": [py.main_image, "arm64", "x86_64"],
        "comment": "the main image under root/ has no arm64 slice but the observation says arm64"})

    # (b) an extension's non-weak dependency exists nowhere
    case = out + "/missing-dependency"
    tree = Tree(case + "/root")
    py, tc = pyorg_framework(tree, build + "/b")
    site = py.stdlib + "/site-packages"
    d = build + "/b"
    dep = tc.link(d + "/libnowhere.1.dylib", ["broken_dep.c"], "dylib", "@rpath/libnowhere.1.dylib")
    ext = tc.link(d + "/_broken" + EXT, ["broken_ext.c"], "bundle", libs=[dep],
                  defines=["MODNAME=_broken"],
                  flags=["-Wl,-undefined,dynamic_lookup", "-Wl,-rpath,@loader_path/.dylibs"])
    tree.put(site + "/brokenpkg/_broken" + EXT, ext)
    tree.write(site + "/brokenpkg/__init__.py", "from ._broken import *  # noqa\n")
    mods = py.stdlib_modules()
    mods.update({"brokenpkg": site + "/brokenpkg/__init__.py",
                 "brokenpkg._broken": site + "/brokenpkg/_broken" + EXT})
    finish(case, tree, py, "arm64", FW + "/bin/python3.11", FW + "/bin/python3.11", mods,
           py.main_image, FW_MAIN_REL, ["arm64"], site=site, layout="errors/missing-dependency",
           imports=["json", "brokenpkg"])
    write_json(case + "/expect.json", {
        "error": "missing-dependency",
        "mentions": [site + "/brokenpkg/_broken" + EXT, "@rpath/libnowhere.1.dylib"],
        "comment": "the error must name the image that needed the library, and the library"})

    # (c) a hostile Mach-O among the loaded images: its load commands run past the file's end
    case = out + "/hostile-macho"
    tree = Tree(case + "/root")
    py, tc = pyorg_framework(tree, build + "/c")
    site = py.stdlib + "/site-packages"
    d = build + "/c"
    dep = tc.link(d + "/libhostile.dylib", ["broken_dep.c"], "dylib", "@rpath/libhostile.dylib")
    ext = tc.link(d + "/_hostile" + EXT, ["broken_ext.c"], "bundle", libs=[dep],
                  defines=["MODNAME=_hostile"],
                  flags=["-Wl,-undefined,dynamic_lookup", "-Wl,-rpath,@loader_path/.dylibs"])
    tree.put(site + "/hostile/_hostile" + EXT, ext)
    tree.write(site + "/hostile/__init__.py", "from ._hostile import *  # noqa\n")
    raw = open(dep, "rb").read()
    sizeofcmds = struct.unpack_from("<I", raw, 20)[0]
    cut = 32 + sizeofcmds // 3          # the header promises sizeofcmds bytes; a third is there
    tree.mkdir(site + "/hostile/.dylibs")
    with open(tree.host(site + "/hostile/.dylibs/libhostile.dylib"), "wb") as f:
        f.write(raw[:cut])
    mods = py.stdlib_modules()
    mods.update({"hostile": site + "/hostile/__init__.py",
                 "hostile._hostile": site + "/hostile/_hostile" + EXT})
    m = finish(case, tree, py, "arm64", FW + "/bin/python3.11", FW + "/bin/python3.11", mods,
               py.main_image, FW_MAIN_REL, ["arm64"], site=site, layout="errors/hostile-macho",
               imports=["json", "hostile"])
    bad = site + "/hostile/.dylibs/libhostile.dylib"
    m["shared_objects"] = sorted(set(m["shared_objects"]) | {bad})  # dyld had mapped it
    write_json(case + "/manifest.json", m)
    write_json(case + "/expect.json", {
        "error": "hostile-macho", "mentions": [bad],
        "comment": "sizeofcmds is %d but the file ends %d bytes after the header"
                   % (sizeofcmds, cut - 32)})


def fetch(wheels):
    """Downloads the pinned wheels once (pip download skips files it already has)."""
    sets = [("arm64", ARM, ARM_WHEELS), ("x86_64", X86, X86_WHEELS),
            ("universal2", UNI, UNI_WHEELS)]
    for d, plats, reqs in sets:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--no-deps", "--only-binary=:all:", "--python-version", PY, "--implementation",
               "cp", "-d", os.path.join(wheels, d)]
        for p in plats:
            cmd += ["--platform", p]
        subprocess.run(cmd + reqs, check=True)


def main():
    layout, out, wheels = sys.argv[1], sys.argv[2], sys.argv[3]
    if layout == "fetch":
        return fetch(wheels)
    dest = os.path.join(out, layout)
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    build = os.path.join(out, "build", layout)
    shutil.rmtree(build, ignore_errors=True)
    {"pyorg": do_pyorg, "homebrew": do_homebrew, "pyenv": do_pyenv, "venv": do_venv,
     "errors": do_errors}[layout](tmp, build, wheels)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)


if __name__ == "__main__":
    main()
