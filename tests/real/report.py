"""Checks the JSON report of a run of a real program (tests/real/*.sh).

    python3 tests/real/report.py REPORT.json EXPECTATION...

Each EXPECTATION is one of:

    status=N          asyncleak's exit status
    exit=N            the program's exit status (it was not killed)
    NAME[+NAME]=N     a key of the program's process totals, or the sum of
                      several (handles_open, handles_closing, ...)
    NAME[+NAME]>=N    the same, at least N (loops>=1: a loop was seen, when
                      how many a program makes is its own business)
    STATE[|STATE]:TYPE=N
                      the program's leak groups of that state (or of any of
                      those states) and type hold N resources in all

The leak groups are checked exactly: every group of the program's process
must be counted by some STATE:TYPE expectation, so a group that is not
expected fails. Prints what differs and exits 1; exits 0 when all holds.
"""
import json
import sys


def main(path, expectations):
    with open(path) as f:
        doc = json.load(f)
    errors = []
    if doc.get("schema") != "asyncleak-report":
        sys.exit("%s: not an asyncleak report" % path)
    main_procs = [p for p in doc["processes"] if p["main"]]
    if len(main_procs) != 1:
        sys.exit("%s: %d processes of the program" % (path, len(main_procs)))
    proc = main_procs[0]
    if proc["report"] != "complete":
        errors.append("the program's report is %s" % proc["report"])
    groups = [(g["state"], g["type"], g["count"]) for g in proc["leaks"]]
    covered = set()
    for e in expectations:
        at_least = ">=" in e
        key, _, want = e.partition(">=" if at_least else "=")
        want = int(want)
        if key == "status":
            got = doc["status"]
        elif key == "exit":
            if doc["program"]["signal"] is not None:
                errors.append("the program was killed by %s, expected exit %d"
                              % (doc["program"]["signal"], want))
                continue
            got = doc["program"]["exit_code"]
        elif ":" in key:
            states, _, type_ = key.partition(":")
            states = states.split("|")
            got = 0
            for i, (state, t, count) in enumerate(groups):
                if state in states and t == type_:
                    got += count
                    covered.add(i)
        else:
            got = 0
            for name in key.split("+"):
                if name not in proc["totals"]:
                    errors.append("no totals key %s" % name)
                    got = None
                    break
                got += proc["totals"][name]
            if got is None:
                continue
        if at_least and got < want:
            errors.append("%s is %s, expected at least %d" % (key, got, want))
        elif not at_least and got != want:
            errors.append("%s is %s, expected %d" % (key, got, want))
    for i, (state, t, count) in enumerate(groups):
        if i not in covered:
            errors.append("unexpected group: %d %s %s" % (count, t, state))
    if errors:
        for e in errors:
            print("%s: %s" % (path, e))
        print("groups: %s" % ", ".join("%d %s %s" % (c, t, s)
                                       for s, t, c in groups))
        print("totals: %s" % json.dumps(proc["totals"]))
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
