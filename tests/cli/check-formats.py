#!/usr/bin/python3
"""Checks the machine-readable reports asyncleak writes.

    check-formats.py json FILE SCHEMA    the JSON report against its schema
    check-formats.py sarif FILE SCHEMA   a SARIF log against the subset of
                                         SARIF 2.1.0 asyncleak relies on
    check-formats.py junit FILE          JUnit XML: well-formed, and its
                                         counts those of its elements
    check-formats.py eval FILE EXPR      prints EXPR, a Python expression of
                                         d, the document (an ElementTree
                                         root for a .xml file)

Prints one line per problem found and exits 1 when there is any, 2 when
it is misused.
"""
import json
import sys
import xml.etree.ElementTree as ET

try:
    import jsonschema
except ImportError:
    jsonschema = None


def load_json(path, problems):
    """The document in path, or None once the problem is said."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        problems.append(f"{path}: not a JSON document in UTF-8: {e}")
        return None


def validate(doc, schema_path, path, problems):
    if jsonschema is None:
        problems.append("the jsonschema module is missing "
                        "(Debian: python3-jsonschema)")
        return
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    for e in sorted(cls(schema).iter_errors(doc), key=lambda e: e.path):
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        problems.append(f"{path}: {where}: {e.message}")


KINDS = {"open": "handle", "closing": "handle", "forced": "handle",
         "pending": "request",
         "cancelled": "request", "ensured": "resource"}


def check_json(path, schema_path):
    """What the schema cannot say: the fields that must agree."""
    problems = []
    doc = load_json(path, problems)
    if doc is None:
        return problems
    validate(doc, schema_path, path, problems)
    if problems:
        return problems
    mains = [p for p in doc["processes"] if p["main"]]
    if len(mains) > 1:
        problems.append(f"{path}: {len(mains)} processes are main")
    for p in mains:
        if p["pid"] != doc["program"]["pid"]:
            problems.append(f"{path}: the main process is {p['pid']}, the "
                            f"program {doc['program']['pid']}")
    for p in doc["processes"]:
        for i, g in enumerate(p["leaks"]):
            where = f"{path}: process {p['pid']}, leak {i}"
            if KINDS[g["state"]] != g["kind"]:
                problems.append(f"{where}: kind {g['kind']} for state "
                                f"{g['state']}")
            own = g["own_frame"]
            if own is not None and own >= len(g["frames"]):
                problems.append(f"{where}: own_frame {own} of "
                                f"{len(g['frames'])} frames")
    return problems


def check_sarif(path, schema_path):
    problems = []
    doc = load_json(path, problems)
    if doc is None:
        return problems
    validate(doc, schema_path, path, problems)
    if problems:
        return problems
    for r, run in enumerate(doc["runs"]):
        rules = run["tool"]["driver"].get("rules", [])
        for i, res in enumerate(run.get("results", [])):
            where = f"{path}: runs/{r}/results/{i}"
            index = res.get("ruleIndex")
            if index is None:
                continue
            if index >= len(rules) or rules[index]["id"] != res["ruleId"]:
                problems.append(f"{where}: ruleIndex {index} is not rule "
                                f"{res['ruleId']}")
    return problems


def count_of(element, name, path, problems):
    value = element.get(name)
    try:
        return int(value)
    except (TypeError, ValueError):
        problems.append(f"{path}: <{element.tag}> has {name}={value!r}")
        return None


def check_suite(suite, path, problems):
    """Its counts against its elements; returns what it has of each."""
    cases = suite.findall("testcase")
    seen = {"tests": len(cases),
            "failures": sum(len(c.findall("failure")) for c in cases),
            "errors": sum(len(c.findall("error")) for c in cases),
            "skipped": sum(len(c.findall("skipped")) for c in cases)}
    for name, n in seen.items():
        said = count_of(suite, name, path, problems)
        if said is not None and said != n:
            problems.append(f"{path}: <testsuite {suite.get('name')}> says "
                            f"{name}={said}, has {n}")
    for c in cases:
        for attr in ("classname", "name"):
            if not c.get(attr):
                problems.append(f"{path}: a <testcase> has no {attr}")
    return seen


def check_junit(path):
    problems = []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return [f"{path}: not well-formed XML: {e}"]
    if root.tag != "testsuites":
        return [f"{path}: the root is <{root.tag}>, not <testsuites>"]
    suites = root.findall("testsuite")
    if not suites:
        problems.append(f"{path}: no <testsuite>")
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for name, n in check_suite(suite, path, problems).items():
            total[name] += n
    for name, n in total.items():
        said = count_of(root, name, path, problems) \
            if root.get(name) is not None else n
        if said is not None and said != n:
            problems.append(f"{path}: <testsuites> says {name}={said}, "
                            f"its suites have {n}")
    return problems


def evaluate(path, expr):
    problems = []
    if path.endswith(".xml"):
        doc = ET.parse(path).getroot()
    else:
        doc = load_json(path, problems)
    if problems:
        return problems
    value = eval(expr, {"__builtins__": {}, "len": len, "any": any,
                        "all": all, "sum": sum}, {"d": doc})
    print(json.dumps(value) if not isinstance(value, str) else value)
    return []


def main(argv):
    if len(argv) == 4 and argv[1] in ("json", "sarif", "eval"):
        check = {"json": check_json, "sarif": check_sarif,
                 "eval": evaluate}[argv[1]]
        problems = check(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "junit":
        problems = check_junit(argv[2])
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
