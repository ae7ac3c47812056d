# shenzi observer: records what one Python process really loaded.
#
# `shenzi observe` writes this file as `sitecustomize.py` into a private directory and puts that
# directory first on PYTHONPATH, so it runs in the observed process and in every Python child it
# starts (multiprocessing spawn/forkserver children, subprocesses of sys.executable). It chains to
# any real sitecustomize, then at exit writes `$SHENZI_OBSERVE_DIR/<pid>.json` with the
# interpreter's facts, every module with its file, every loaded shared object (Linux:
# /proc/self/maps; macOS: the dyld image list) and every library loaded by name through ctypes
# or cffi. `shenzi observe` merges these records into the manifest.
# Written for Python 3.6+ and the standard library only.

import atexit
import os
import sys

_OUT = os.environ.get("SHENZI_OBSERVE_DIR")
_HERE = os.path.dirname(os.path.abspath(__file__))
_CWD = os.getcwd()
_DLOPEN = []
_IN_HOOK = [False]
_DONE = [False]
_LAST = [None]


def _strip_self():
    """Hide this directory from the application (children still get it through PYTHONPATH)."""
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]


def _chain_sitecustomize():
    """Run the sitecustomize this file stands in for, if there is one."""
    me = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  (the application's own, found without our dir)
    except ImportError:
        pass
    finally:
        if me is not None and "sitecustomize" not in sys.modules:
            sys.modules["sitecustomize"] = me


_DARWIN = sys.platform == "darwin"


def _dyld():
    """libSystem's dyld image functions (macOS)."""
    import ctypes

    libc = ctypes.CDLL(None)
    count = libc._dyld_image_count
    count.restype = ctypes.c_uint32
    name = libc._dyld_get_image_name
    name.restype = ctypes.c_char_p
    name.argtypes = [ctypes.c_uint32]
    return libc, count, name


def _dyld_images():
    """Paths of every image dyld has loaded, the process's own first (dyld reports real paths)."""
    try:
        _, count, name = _dyld()
        return [os.fsdecode(name(i)) for i in range(count()) if name(i)]
    except Exception:
        return []


def _handle_path_darwin(handle):
    """The image a dlopen handle refers to: the one whose RTLD_NOLOAD handle is the same."""
    import ctypes

    try:
        libc, count, name = _dyld()
        dlopen = libc.dlopen
        dlopen.restype = ctypes.c_void_p
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        dlclose = libc.dlclose
        dlclose.argtypes = [ctypes.c_void_p]
        want = ctypes.c_void_p(handle).value
        for i in range(count()):
            n = name(i)
            if not n:
                continue
            h = dlopen(n, os.RTLD_NOLOAD | os.RTLD_LAZY)
            if h:
                dlclose(h)
                if h == want:
                    return os.fsdecode(n)
    except Exception:
        pass
    return None


def _handle_path(handle):
    """The file a dlopen handle refers to, through dlinfo(RTLD_DI_LINKMAP) (dyld on macOS)."""
    if _DARWIN:
        return _handle_path_darwin(handle)
    import ctypes

    class LinkMap(ctypes.Structure):
        _fields_ = [("l_addr", ctypes.c_void_p), ("l_name", ctypes.c_char_p)]

    try:
        libc = ctypes.CDLL(None)
        lm = ctypes.POINTER(LinkMap)()
        if libc.dlinfo(ctypes.c_void_p(handle), 2, ctypes.byref(lm)) != 0 or not lm:
            return None
        name = lm.contents.l_name
        return os.fsdecode(name) if name else None
    except Exception:
        return None


def _record_dlopen(name, handle, via):
    if name is None or _IN_HOOK[0]:
        return
    _IN_HOOK[0] = True
    try:
        name = os.fsdecode(name) if isinstance(name, (bytes, str, os.PathLike)) else str(name)
        path = _handle_path(handle) if handle else None
        _DLOPEN.append({"name": name, "path": path, "via": via})
    except Exception:
        pass
    finally:
        _IN_HOOK[0] = False


def _patch_ctypes(mod):
    cdll = mod.CDLL
    orig = cdll.__init__

    def __init__(self, name, *args, **kwargs):
        orig(self, name, *args, **kwargs)
        _record_dlopen(name, getattr(self, "_handle", None), "ctypes")

    cdll.__init__ = __init__


def _patch_cffi(mod):
    ffi = getattr(mod, "FFI", None)
    if ffi is None:
        return
    orig = ffi.dlopen

    def dlopen(self, name, *args, **kwargs):
        lib = orig(self, name, *args, **kwargs)
        if name is not None:
            # Resolved at exit (RTLD_NOLOAD finds it by the name it was opened with).
            _DLOPEN.append({"name": os.fsdecode(name), "path": None, "via": "cffi"})
        return lib

    ffi.dlopen = dlopen




class _Loader:
    """Runs the real loader, then patches the fresh module."""

    def __init__(self, inner, patch):
        self._inner = inner
        self._patch = patch

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        try:
            self._patch(module)
        except Exception:
            pass

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _Finder:
    """A meta-path finder that only wraps the loaders of the modules in _PATCHES."""

    def find_spec(self, name, path=None, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader, patch)
                return spec
        return None


def _loaded():
    """Every loaded shared object."""
    if _DARWIN:
        return sorted(set(_dyld_images()))
    return _maps()


_CPU = {7: "i386", 0x1000007: "x86_64", 12: "arm", 0x100000C: "arm64", 0x200000C: "arm64_32"}


def _archs(path):
    """Architectures of a Mach-O file: one for a thin file, one per slice for a fat one."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(8)
            magic = struct.unpack(">I", head[:4])[0]
            if magic in (0xCAFEBABE, 0xCAFEBABF):
                n = struct.unpack(">I", head[4:8])[0]
                size = 32 if magic == 0xCAFEBABF else 20
                table = f.read(n * size)
                cpus = [struct.unpack(">I", table[i * size:i * size + 4])[0] for i in range(n)]
            elif magic in (0xCEFAEDFE, 0xCFFAEDFE):
                cpus = [struct.unpack("<I", head[4:8])[0]]
            elif magic in (0xFEEDFACE, 0xFEEDFACF):
                cpus = [struct.unpack(">I", head[4:8])[0]]
            else:
                return []
        return [_CPU.get(c, "cputype %#x" % c) for c in cpus]
    except Exception:
        return []


def _mac_facts():
    if not _DARWIN:
        return None
    import platform
    import sysconfig

    images = _dyld_images()
    main_image = images[0] if images else None
    return {
        "version": platform.mac_ver()[0],
        "framework": getattr(sys, "_framework", None) or None,
        "framework_prefix": sysconfig.get_config_var("PYTHONFRAMEWORKPREFIX") or None,
        "main_image": main_image,
        "interpreter_archs": _archs(main_image) if main_image else [],
    }


def _maps():
    out = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    out.append(parts[5].rstrip("\n"))
    except OSError:
        pass
    return sorted(set(out))


def _dump():
    if _DONE[0] or not _OUT:
        return
    _DONE[0] = True
    try:
        _write_record()
    finally:
        try:
            os.unlink(_live_path())
        except OSError:
            pass


def _live_path():
    return os.path.join(_OUT, "%d.live" % os.getpid())


def _mark_live():
    # `shenzi observe` waits for processes with a .live file to finish their record.
    try:
        with open(_live_path(), "w"):
            pass
    except OSError:
        pass


def _write_record():
    # Snapshot first: the imports below are the observer's, not the application's.
    modules = {}
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        modules[name] = os.path.abspath(f) if isinstance(f, str) else None
    maps = _loaded()
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    import json
    import sysconfig

    for d in _DLOPEN:
        if d["path"] is None and d["via"] == "cffi":
            try:
                import ctypes

                h = ctypes.CDLL(d["name"], mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
                d["path"] = _handle_path(h._handle)
            except Exception:
                pass
    site_dirs = []
    user_site = None
    try:
        import site

        site_dirs = list(site.getsitepackages())
        user_site = site.getusersitepackages()
    except Exception:
        pass
    paths = sysconfig.get_paths()
    env = {}
    for k in ("LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PATH",
              "DYLD_LIBRARY_PATH", "DYLD_FALLBACK_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH",
              "DYLD_FALLBACK_FRAMEWORK_PATH", "DYLD_INSERT_LIBRARIES"):
        v = os.environ.get(k)
        if v is not None:
            if k == "PYTHONPATH":
                v = os.pathsep.join(p for p in v.split(os.pathsep) if os.path.abspath(p or ".") != _HERE)
            env[k] = v
    rec = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "argv": list(sys.argv),
        "cwd": _CWD,
        "platform": "macos" if _DARWIN else "linux",
        "machine": _machine(),
        "macos": _mac_facts(),
        "main_module": getattr(spec, "name", None),
        "main_file": os.path.abspath(main.__file__) if isinstance(getattr(main, "__file__", None), str) else None,
        "python": {
            "executable": sys.executable,
            "real_executable": os.path.realpath(sys.executable),
            "version": "%d.%d.%d" % sys.version_info[:3],
            "abiflags": getattr(sys, "abiflags", ""),
            "prefix": sys.prefix,
            "base_prefix": sys.base_prefix,
            "exec_prefix": sys.exec_prefix,
            "base_exec_prefix": sys.base_exec_prefix,
            "platlibdir": getattr(sys, "platlibdir", "lib"),
            "path": [p for p in sys.path if os.path.abspath(p or ".") != _HERE],
            "stdlib": paths.get("stdlib"),
            "platstdlib": paths.get("platstdlib"),
            "purelib": paths.get("purelib"),
            "platlib": paths.get("platlib"),
            "site_packages": site_dirs,
            "user_site": user_site,
            "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
            "ldlibrary": sysconfig.get_config_var("LDLIBRARY"),
            "libdir": sysconfig.get_config_var("LIBDIR"),
        },
        "env": env,
        "modules": modules,
        "shared_objects": maps,
        "dlopen": _DLOPEN,
    }
    path = os.path.join(_OUT, "%d.json" % os.getpid())
    import _thread

    tmp = "%s.%d.tmp" % (path, _thread.get_ident())
    with open(tmp, "w") as f:
        json.dump(rec, f)
    os.replace(tmp, path)


def _machine():
    try:
        return os.uname().machine
    except Exception:
        return None


def _maybe_dump():
    """Writes the record again when the process loaded something since the last one."""
    key = (len(sys.modules), len(_DLOPEN))
    if key != _LAST[0]:
        _LAST[0] = key
        try:
            _write_record()
        except Exception:
            pass


def _patch_pool(mod):
    """Pool workers are ended with SIGTERM, which skips atexit: they record after each task."""
    orig = getattr(mod, "worker", None)
    if orig is None:
        return

    def worker(inqueue, outqueue, *args, **kwargs):
        put = outqueue.put

        def put_after_record(obj):
            _maybe_dump()
            return put(obj)

        try:
            outqueue.put = put_after_record
        except Exception:
            pass
        return orig(inqueue, outqueue, *args, **kwargs)

    # Pickled by reference when a spawn child is started: keep the original's name.
    worker.__module__ = orig.__module__
    worker.__qualname__ = orig.__qualname__
    worker.__name__ = orig.__name__
    mod.worker = worker


def _after_fork():
    # Forked multiprocessing children leave through os._exit, which skips atexit; their
    # finalizers still run.
    _DONE[0] = False
    del _DLOPEN[:]
    _mark_live()
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        try:
            util.Finalize(None, _dump, exitpriority=-1000)
        except Exception:
            pass


# Modules patched right after they are imported.
_PATCHES = {"ctypes": _patch_ctypes, "cffi.api": _patch_cffi, "multiprocessing.pool": _patch_pool}

if _OUT:
    _mark_live()
    _strip_self()
    _chain_sitecustomize()
    sys.meta_path.insert(0, _Finder())
    for _name, _patch in _PATCHES.items():
        if _name in sys.modules:
            _patch(sys.modules[_name])
    atexit.register(_dump)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
