#!/usr/bin/python3
"""jschema.py KIND FILE: every JSON document in FILE (one a line, as vmnet
--json prints them; reapply prints one per saved plan) is valid against
schemas/json/KIND.schema.json (vmnet(8), JSON OUTPUT).

Exits 0 only when FILE holds at least one document and each is valid; says
why on stderr otherwise (the first errors of each invalid document, with the
path of the member in error). The schemas' references to each other
(common.schema.json#/$defs/...) resolve within schemas/json/, and each schema
is itself checked against its metaschema (draft 2020-12) first.

Environment: top_srcdir (default: this checkout).
"""
import json
import os
import sys

import jsonschema


def make_validator(name, store):
    """A validator of store[name] whose references resolve within store."""
    try:  # jsonschema >= 4.18 (Debian 12 has 4.10, which has only RefResolver)
        import referencing
        import referencing.jsonschema

        registry = referencing.Registry().with_resources(
            (n, referencing.Resource(s, referencing.jsonschema.DRAFT202012)) for n, s in store.items())
        return jsonschema.Draft202012Validator(store[name], registry=registry)
    except ImportError:
        resolver = jsonschema.RefResolver(base_uri=name, referrer=store[name], store=store)
        return jsonschema.Draft202012Validator(store[name], resolver=resolver)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kind, path = sys.argv[1:]
    top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(__file__), "..", "..")
    schemas = os.path.join(top, "schemas", "json")
    store = {}
    for name in sorted(os.listdir(schemas)):
        if name.endswith(".schema.json"):
            with open(os.path.join(schemas, name), encoding="utf-8") as f:
                store[name] = json.load(f)
            jsonschema.Draft202012Validator.check_schema(store[name])
    name = kind + ".schema.json"
    if name not in store:
        sys.exit(f"jschema: no schema {name} in {schemas}")
    validator = make_validator(name, store)
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n") if line.strip()]
    if not lines:
        sys.exit(f"jschema: {path} holds no document")
    bad = 0
    for n, line in enumerate(lines, 1):
        try:
            doc = json.loads(line)
        except ValueError as e:
            print(f"  jschema: {path}: document {n} is no JSON: {e}", file=sys.stderr)
            bad += 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:5]:
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            print(f"  jschema: {path}: document {n} against {name}: at {where}: {e.message}",
                  file=sys.stderr)
        bad += bool(errors)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
