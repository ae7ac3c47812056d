"""Loads librpa.so by name (found through LD_LIBRARY_PATH); its dependencies resolve only with
ld.so's DT_RPATH inheritance."""

import ctypes

print(ctypes.CDLL("librpa.so").chain_a())
