#!/usr/bin/env python3
"""Check that every alert in RULES has summary, description and a runbook_url `<base>#<anchor>`,
with one base for all of them (the chart swaps it for `runbookBaseUrl`; the file's own is the
daemon's `/runbook` behind the chart's default Service), and every anchor a heading of RUNBOOK
(GitHub's anchor rules: lower case, spaces to '-', punctuation dropped). With --served HTML (serve's
/runbook, saved), each anchor must also be an element id there.

    check_runbook_links.py RULES RUNBOOK [--served HTML] [--base URL]

--base: the base every runbook_url must have (default: whichever the first alert uses, which must
end in /runbook).
"""
import argparse
import re
import sys

import yaml


def anchor(heading):
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rules")
    parser.add_argument("runbook")
    parser.add_argument("--served")
    parser.add_argument("--base")
    args = parser.parse_args()
    rules = yaml.safe_load(open(args.rules))
    text = re.sub(r"^```.*?^```", "", open(args.runbook).read(), flags=re.M | re.S)  # no "# comment" in code
    anchors = {anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}
    served = None
    if args.served:
        served = set(re.findall(r'\bid="([^"]+)"', open(args.served, encoding="utf-8").read()))
    problems = []
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    base = args.base
    for rule in alerts:
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"{rule['alert']}: no {key}")
        url = annotations.get("runbook_url", "")
        if "#" not in url:
            problems.append(f"{rule['alert']}: runbook_url {url} has no #anchor")
            continue
        url_base, fragment = url.split("#", 1)
        if base is None:
            base = url_base
            if not base.endswith("/runbook"):
                problems.append(f"{rule['alert']}: runbook_url {url} is not the daemon's /runbook")
        if url_base != base:
            problems.append(f"{rule['alert']}: runbook_url base {url_base} differs from {base} (one base for all)")
        if fragment not in anchors:
            problems.append(f"{rule['alert']}: runbook_url anchor of {url} is no heading of {args.runbook}")
        if served is not None and fragment not in served:
            problems.append(f"{rule['alert']}: #{fragment} is no element id of the served {args.served}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(alerts)} alerts checked against base {base}, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
