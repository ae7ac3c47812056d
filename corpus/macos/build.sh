#!/bin/bash
# Builds the recorded macOS Python installations of the corpus, under target/corpus-macos/
# (or $1), with clang-19/lld (no Apple SDK) and real macOS wheels from PyPI:
#   pyorg/ homebrew/ pyenv/ venv/   root/ (the files at their macOS paths), manifest.json (the
#                                   observation), expect.json (what a correct bundle has)
#   errors/<case>/                   one broken installation per error the bundler must report
# Wheels are downloaded once into target/wheels-macos/<arch>/. A layout is rebuilt only when
# one of its inputs (this script, layout.py, src/*, the wheels) is newer than it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/target/corpus-macos}
wheels=$root/target/wheels-macos
py=${PYTHON:-$root/target/macos-venv/bin/python}
mkdir -p "$out" "$wheels"

fetched=$wheels/.fetched
if [ ! -f "$fetched" ] || [ "$here/layout.py" -nt "$fetched" ]; then
    "$py" "$here/layout.py" fetch "$out" "$wheels"
    touch "$fetched"
fi

for layout in pyorg homebrew pyenv venv errors; do
    stamp=$out/$layout/.built
    if [ -f "$stamp" ] && [ -z "$(find "$here/build.sh" "$here/layout.py" "$here/src" "$fetched" \
            -newer "$stamp" -print -quit)" ]; then
        continue
    fi
    echo "building $layout"
    "$py" "$here/layout.py" "$layout" "$out" "$wheels"
    touch "$stamp"
done
rm -rf "$out/build"
