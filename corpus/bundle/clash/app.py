"""Loads liba.so here and libb.so in a spawned child: each must get its own libclash.so, in the
bundle as in the original run (one process can hold only one library of a given name)."""

import ctypes
import multiprocessing as mp


def b_value():
    return ctypes.CDLL("libb.so").b_value()


if __name__ == "__main__":
    a = ctypes.CDLL("liba.so").a_value()
    with mp.get_context("spawn").Pool(1) as pool:
        b = pool.apply(b_value)
    print(a, b)
