"""A stdlib-only example for `shenzi bundle`: prints facts that show where it runs from, uses
sqlite3, hashlib/ssl, json and a multiprocessing spawn pool."""

import hashlib
import json
import multiprocessing as mp
import sqlite3
import ssl
import sys

import greeting


def square(n):
    return n * n


def main():
    db = sqlite3.connect(":memory:")
    db.execute("create table t (x)")
    db.executemany("insert into t values (?)", [(i,) for i in range(10)])
    total = db.execute("select sum(x) from t").fetchone()[0]
    with mp.get_context("spawn").Pool(2) as pool:
        squares = pool.map(square, range(5))
    print(greeting.hello(" ".join(sys.argv[1:]) or "world"))
    print(json.dumps({
        "sum": total,
        "squares": squares,
        "sha256": hashlib.sha256(b"shenzi").hexdigest()[:16],
        "ssl": ssl.OPENSSL_VERSION.split()[0],
    }, sort_keys=True))


if __name__ == "__main__":
    main()
