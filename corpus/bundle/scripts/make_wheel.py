"""Writes shenzi_scripts-1.0-py3-none-any.whl into the directory given: a distribution with a
plain script in its .data/scripts (a docstring, a coding cookie and a __future__ import, the
things a rewritten header must not break), a console script and a GUI script."""

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

NAME, VERSION = "shenzi_scripts", "1.0"
DIST = f"{NAME}-{VERSION}"

FILES = {
    f"{NAME}/__init__.py": (
        "import sys\n\n"
        "VALUE = 42\n\n\n"
        "def where():\n"
        "    return 'bundle' if '/site-packages/' in __file__ else 'elsewhere'\n\n\n"
        "def gui():\n"
        "    print('gui script', VALUE, sys.argv[1:])\n"
    ),
    f"{DIST}.data/scripts/shenzi-plain": (
        "#!python\n"
        "# -*- coding: utf-8 -*-\n"
        '"""A plain script: pip rewrites its first line to the interpreter\'s path."""\n'
        "from __future__ import annotations\n\n"
        "import sys\n\n"
        "import shenzi_scripts\n\n"
        "print('plain script', shenzi_scripts.VALUE, sys.argv[1:], 'caf\\u00e9')\n"
        "print('executable', sys.executable)\n"
    ),
    f"{DIST}.data/scripts/shenzi-shell": "#!/bin/sh\necho shell script \"$@\"\n",
    f"{DIST}.dist-info/METADATA": (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nLicense-Expression: MIT\n"
    ),
    f"{DIST}.dist-info/WHEEL": (
        "Wheel-Version: 1.0\nGenerator: shenzi-corpus\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ),
    f"{DIST}.dist-info/entry_points.txt": (
        "[console_scripts]\nshenzi-console = shenzi_scripts:gui\n\n"
        "[gui_scripts]\nshenzi-gui = shenzi_scripts:gui\n"
    ),
}


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def main(out_dir):
    out = Path(out_dir) / f"{DIST}-py3-none-any.whl"
    record = ""
    with zipfile.ZipFile(out, "w") as z:
        for path, text in FILES.items():
            data = text.encode()
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if "/scripts/" in path else 0o100644) << 16
            z.writestr(info, data)
            record += record_line(path, data)
        record += f"{DIST}.dist-info/RECORD,,\n"
        info = zipfile.ZipInfo(f"{DIST}.dist-info/RECORD", (1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        z.writestr(info, record)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1])
