#!/usr/bin/env python3
"""Copies the program header table of an ELF file so that it ends exactly where the section
.adjacent_data starts, and points e_phoff (and PT_PHDR, which the loader of a program uses) at
the copy (patchelf's pht-collision case)."""
import struct
import sys

path = sys.argv[1]
data = bytearray(open(path, "rb").read())
is64 = data[4] == 2
e = "<" if data[5] == 1 else ">"
if is64:
    phoff, shoff = struct.unpack_from(e + "QQ", data, 32)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 54)
else:
    phoff, shoff = struct.unpack_from(e + "II", data, 28)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 42)


def section(i):
    at = shoff + i * shentsize
    if is64:
        name, _, _, _, off, size = struct.unpack_from(e + "IIQQQQ", data, at)
    else:
        name, _, _, _, off, size = struct.unpack_from(e + "IIIIII", data, at)
    return name, off, size


_, names_off, _ = section(shstrndx)
for i in range(shnum):
    name, off, _ = section(i)
    end = data.index(b"\0", names_off + name)
    if data[names_off + name:end] == b".adjacent_data":
        adjacent = off
        break
else:
    sys.exit(".adjacent_data not found")
size = phentsize * phnum
new = adjacent - size
data[new:new + size] = data[phoff:phoff + size]
# PT_PHDR follows the table; both lie in the first segment, so the address moves with the offset.
for i in range(phnum):
    at = new + i * phentsize
    if struct.unpack_from(e + "I", data, at)[0] != 6:
        continue
    if is64:
        off, vaddr, paddr = struct.unpack_from(e + "QQQ", data, at + 8)
        struct.pack_into(e + "QQQ", data, at + 8, new, vaddr + new - off, paddr + new - off)
    else:
        off, vaddr, paddr = struct.unpack_from(e + "III", data, at + 4)
        struct.pack_into(e + "III", data, at + 4, new, vaddr + new - off, paddr + new - off)
struct.pack_into(e + ("Q" if is64 else "I"), data, 32 if is64 else 28, new)
open(path, "wb").write(data)
