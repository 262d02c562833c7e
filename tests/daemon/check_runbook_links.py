#!/usr/bin/env python3
"""Check that every alert in RULES has summary, description and a runbook_url whose #anchor is a
heading of RUNBOOK (GitHub's anchor rules: lower case, spaces to '-', punctuation dropped).

    check_runbook_links.py RULES RUNBOOK
"""
import re
import sys

import yaml


def anchor(heading):
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def main():
    rules_path, runbook_path = sys.argv[1], sys.argv[2]
    rules = yaml.safe_load(open(rules_path))
    anchors = {anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", open(runbook_path).read(), re.M)}
    problems = []
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    for rule in alerts:
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"{rule['alert']}: no {key}")
        url = annotations.get("runbook_url", "")
        if not url.split("#")[0].endswith("docs/runbook.md"):
            problems.append(f"{rule['alert']}: runbook_url {url} is not docs/runbook.md")
        if "#" not in url or url.split("#", 1)[1] not in anchors:
            problems.append(f"{rule['alert']}: runbook_url anchor of {url} is no heading of {runbook_path}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(alerts)} alerts checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
