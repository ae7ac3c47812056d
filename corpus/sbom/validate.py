"""Checks a CycloneDX JSON file with cyclonedx-python-lib (strict schema validation, the
specVersion the file names) and parses every purl in it with packageurl-python.

Prints one JSON object: {"errors": [...], "purls": {purl: {type, namespace, name, version,
qualifiers}}}. Used by tests/bundle_sbom.rs as an independent oracle."""

import json
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL


def purls(components, out):
    for c in components:
        if "purl" in c:
            p = PackageURL.from_string(c["purl"])
            out[c["purl"]] = {
                "type": p.type,
                "namespace": p.namespace,
                "name": p.name,
                "version": p.version,
                "qualifiers": p.qualifiers,
            }
        purls(c.get("components", []), out)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    bom = json.loads(text)
    version = SchemaVersion.from_version(bom["specVersion"])
    errors = JsonStrictValidator(version).validate_str(text, all_errors=True) or []
    found = {}
    purls(bom.get("components", []), found)
    print(json.dumps({"errors": [str(e) for e in errors], "purls": found}))


main()
