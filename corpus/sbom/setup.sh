#!/bin/sh
# Prepares the SBOM tests' oracle, idempotently: target/sbom-venv, a venv with
# cyclonedx-python-lib and its JSON-schema extra from PyPI (the CycloneDX JSON validator).
# The bundles the tests describe come from corpus/bundle/setup.sh.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${SHENZI_PYTHON:-python3}

venv="$root/target/sbom-venv"
if ! "$venv/bin/python" -c 'from cyclonedx.validation.json import JsonStrictValidator; import jsonschema' 2>/dev/null; then
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        'cyclonedx-python-lib[json-validation]'
fi
echo "sbom setup: $venv ready"
