"""Writes the wheel of one extension module: make_wheel.py MODULE.so OUTDIR. The tags are those
of the running interpreter (cpXY-cpXY-<platform>), as a plain `pip wheel` of a build tree would
give before auditwheel; prints the wheel's path."""

import base64
import hashlib
import sys
import sysconfig
import zipfile
from pathlib import Path

NAME, VERSION = "shenzidemo", "1.0"


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main():
    module, outdir = Path(sys.argv[1]), Path(sys.argv[2])
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    tag = f"{py}-{py}-{platform}"
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        module.name: module.read_bytes(),
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
            "Summary: An extension module linking a library from outside the wheel\n"
        ).encode(),
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: shenzi-corpus\nRoot-Is-Purelib: false\n"
            f"Tag: {tag}\n"
        ).encode(),
    }
    record = [record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = outdir / f"{NAME}-{VERSION}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = (0o755 if path.endswith(".so") else 0o644) << 16
            z.writestr(entry, data, zipfile.ZIP_DEFLATED)
    print(wheel)


if __name__ == "__main__":
    main()
