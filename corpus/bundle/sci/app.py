"""Bundle test app: numpy, pillow, lxml, cryptography, sqlite3, ssl/hashlib, a library loaded by
name through ctypes (and through cffi in a child), and a multiprocessing spawn pool. Prints only deterministic facts."""

import ctypes
import hashlib
import io
import json
import multiprocessing as mp
import sqlite3
import ssl
import sys

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree
from PIL import Image

import helpers


def work(n):
    # Runs in spawned children: numpy must import there too.
    return int(np.arange(n).sum())


def cffi_answer(x):
    # In a fresh spawned process, so cffi (not an earlier ctypes load) must find the library.
    import cffi

    ffi = cffi.FFI()
    ffi.cdef("int shenzi_answer(int);")
    return ffi.dlopen("libshenzitest.so").shenzi_answer(x)


def main():
    out = {}
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    out["numpy"] = [float(a.sum()), float(np.linalg.det(np.eye(3) * 2)), a.shape[1]]
    img = Image.new("RGB", (8, 8), (10, 20, 30))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf2 = io.BytesIO()
    img.save(buf2, format="JPEG", quality=90)
    out["pillow"] = [Image.open(io.BytesIO(buf.getvalue())).getpixel((3, 3)), len(buf2.getvalue()) > 100]
    root = etree.fromstring(b"<r><x a='1'/><x a='2'/></r>")
    out["lxml"] = [x.get("a") for x in root.xpath("//x")]
    key = bytes(range(32))
    ct = AESGCM(key).encrypt(b"\0" * 12, b"shenzi", None)
    h = hashes.Hash(hashes.SHA256())
    h.update(b"shenzi")
    out["cryptography"] = [ct.hex()[:16], h.finalize().hex()[:16]]
    db = sqlite3.connect(":memory:")
    out["sqlite"] = db.execute("select 6 * 7").fetchone()[0]
    out["hashlib"] = hashlib.sha256(b"x").hexdigest()[:12]
    out["ssl"] = ssl.create_default_context().protocol > 0
    lib = ctypes.CDLL("libshenzitest.so")
    out["ctypes"] = lib.shenzi_answer(2)
    with mp.get_context("spawn").Pool(2) as pool:
        out["spawn"] = pool.map(work, [10, 100, 1000])
        out["cffi"] = pool.apply(cffi_answer, (3,))
    out["helpers"] = helpers.double(21)
    out["argv"] = sys.argv[1:]
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
