"""Bundle test app using only the standard library plus a C library loaded by name through
ctypes. Prints only deterministic facts, so a bundled run's output can be compared with the
original run's."""

import ctypes
import hashlib
import json
import multiprocessing as mp
import sqlite3
import ssl
import subprocess
import sys
import zlib


def cube(n):
    return n ** 3


def main():
    lib = ctypes.CDLL("libshenzitest.so")
    db = sqlite3.connect(":memory:")
    with mp.get_context("spawn").Pool(2) as pool:
        cubes = pool.map(cube, range(4))
    child = subprocess.run(
        [sys.executable, "-c", "import json, sqlite3; print(json.dumps(sqlite3.sqlite_version_info[0]))"],
        capture_output=True, text=True, check=True,
    )
    print(json.dumps({
        "ctypes": lib.shenzi_answer(1),
        "sqlite": db.execute("select 40 + 2").fetchone()[0],
        "sha1": hashlib.sha1(b"shenzi").hexdigest()[:10],
        "ssl": ssl.OPENSSL_VERSION_INFO[0] >= 1,
        "zlib": zlib.crc32(b"shenzi"),
        "cubes": cubes,
        "child": child.stdout.strip(),
        "args": sys.argv[1:],
    }, sort_keys=True))


if __name__ == "__main__":
    main()
