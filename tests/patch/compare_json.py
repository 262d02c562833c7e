#!/usr/bin/env python3
"""Check that a patched file means its input plus exactly the intended change.

  compare_json.py hcl BEFORE.json AFTER.json     (hcl2json output of the .tf before and after)
  compare_json.py yaml BEFORE.json AFTER.json    (yaml2json output: a list of documents)

HCL: every difference must be one of the fix's steps: a `coder_url` local reading a ConfigMap's
data["coder_url"] (in an existing or a new locals block), a CODER_AGENT_URL entry or env block set
to local.coder_url, a `coder_agent.<x>.init_script` wrapped in replace(..., access_url,
local.coder_url), or an added `data "coder_workspace" "me" {}`; in template-only mode an added
`variable "coder_agent_internal_url"`, an init-script expression (the reference or the replace()
already around it) wrapped in replace(<expr>, access_url, var.coder_agent_internal_url), and a
CODER_AGENT_URL set to the variable or with access_url replaced by it inside its wrapper; in
provider-url mode `url = var.coder_agent_internal_url` in provider "coder". YAML: only data.coder_url of a
ConfigMap (or the --configmap-key) and spec.ref.branch of a GitRepository may be added or changed.
"""
import json
import re
import sys

INIT = re.compile(r"coder_agent\.([A-Za-z0-9_-]+)\.init_script")
LOCAL = re.compile(r'^\$\{data\.kubernetes_config_map(_v1)?\.[A-Za-z0-9_-]+\.data\["[^"]+"\]\}$')


def wrapped(text):
    """Return `text` with every bare init_script reference wrapped as the fix does."""
    out, pos = "", 0
    for match in INIT.finditer(text):
        if text[max(0, match.start() - 8):match.start()] == "replace(" and \
                re.match(r"\s*,\s*data\.coder_workspace\.[A-Za-z0-9_-]+\.access_url\s*,\s*local\.coder_url\s*\)",
                         text[match.end():]):
            continue
        out += text[pos:match.start()]
        out += f"replace({match.group(0)}, data.coder_workspace.me.access_url, local.coder_url)"
        pos = match.end()
    return out + text[pos:]


def wrapped_any_workspace(before, after):
    if not isinstance(before, str) or not isinstance(after, str):
        return False
    expected = wrapped(before)
    normalised = re.sub(r"data\.coder_workspace\.[A-Za-z0-9_-]+\.access_url", "data.coder_workspace.me.access_url", after)
    return expected == normalised and before != after


VAR = "var.coder_agent_internal_url"
VAR_SUFFIX = re.compile(r",\s*data\.coder_workspace\.[A-Za-z0-9_-]+\.access_url\s*,\s*var\.coder_agent_internal_url\s*\)")


def unwrap_variable(text):
    """Undo every replace(<expr>, access_url, var.coder_agent_internal_url) whose <expr> mentions an
    init script; return None when a wrapper does not."""
    while True:
        match = VAR_SUFFIX.search(text)
        if not match:
            return text
        depth, i = 0, match.start() - 1
        while i >= 0 and not (depth == 0 and text[i] == "("):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            i -= 1
        if i < 7 or text[i - 7:i] != "replace":
            return None
        inner = text[i + 1:match.start()]
        if "init_script" not in inner:
            return None
        text = text[:i - 7] + inner + text[match.end():]


def template_only_change(key, before, after, context):
    if not isinstance(before, str) or not isinstance(after, str):
        return False
    agent_url = key == "CODER_AGENT_URL" or (key == "value" and context.get("parent", {}).get("name") == "CODER_AGENT_URL")
    if agent_url and (after == "${" + VAR + "}" or
                      re.sub(r"data\.coder_workspace\.[A-Za-z0-9_-]+\.access_url", VAR, before) == after):
        return True
    return VAR in after and unwrap_variable(after) == before


def diff(before, after, path, problems, context):
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = path + [key]
            if key not in after:
                problems.append(f"removed {'/'.join(map(str, sub))}")
            elif key not in before:
                added(after[key], sub, problems, context)
            else:
                diff(before[key], after[key], sub, problems, dict(context, parent=after))
        return
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            # A new locals block or data source appends an element.
            if path and path[-1] in ("locals", "coder_workspace") and len(after) == len(before) + 1:
                for b, a in zip(before, after):
                    diff(b, a, path + ["*"], problems, context)
                added(after[-1], path + [len(after) - 1], problems, context)
                return
            problems.append(f"list length changed at {'/'.join(map(str, path))}")
            return
        for i, (b, a) in enumerate(zip(before, after)):
            diff(b, a, path + [i], problems, dict(context, parent=after))
        return
    if before == after:
        return
    key = path[-1] if path else None
    if after == "${local.coder_url}" and (key == "CODER_AGENT_URL" or
                                          (key == "value" and context.get("parent", {}).get("name") == "CODER_AGENT_URL")):
        return
    if wrapped_any_workspace(before, after):
        return
    if template_only_change(key, before, after, context):
        return
    if key == "url" and "provider" in path and after == "${" + VAR + "}":
        return
    problems.append(f"changed {'/'.join(map(str, path))}: {json.dumps(before)} -> {json.dumps(after)}")


def added(value, path, problems, context):
    where = "/".join(map(str, path))
    if path[-1] == "coder_url" and isinstance(value, str) and LOCAL.match(value) and "locals" in path:
        return
    if "locals" in path and isinstance(value, dict) and list(value) == ["coder_url"] and LOCAL.match(value["coder_url"]):
        return
    if path == ["locals"] and isinstance(value, list) and len(value) == 1:
        return added(value[0], path + [0], problems, context)
    if path == ["variable", "coder_agent_internal_url"] or (path == ["variable"] and isinstance(value, dict) and
                                                           list(value) == ["coder_agent_internal_url"]):
        return
    if "provider" in path and (value == "${" + VAR + "}" or value == [{"url": "${" + VAR + "}"}] or
                               value == {"coder": [{"url": "${" + VAR + "}"}]}):
        return
    if path[-1] == "me" and "coder_workspace" in path or (isinstance(value, dict) and list(value) == ["me"]):
        return
    if isinstance(value, list) and value == [{}]:
        return
    problems.append(f"added {where}: {json.dumps(value)[:200]}")


def yaml_diff(before, after, problems):
    if len(before) != len(after):
        problems.append("document count changed")
        return
    for b, a in zip(before, after):
        if b == a:
            continue
        expected = json.loads(json.dumps(b))
        kind = (b or {}).get("kind")
        if kind == "ConfigMap":
            # One data key (coder_url, or the --configmap-key) added or changed to a URL.
            expected.setdefault("data", {})
            data_after = a.get("data", {}) or {}
            changed = [k for k in data_after if expected["data"].get(k) != data_after[k]]
            for k in changed[:1]:
                expected["data"][k] = data_after[k]
                if not str(data_after[k]).startswith("http"):
                    problems.append(f"ConfigMap data.{k} is not a URL")
        elif kind == "GitRepository":
            expected.setdefault("spec", {}).setdefault("ref", {})["branch"] = a["spec"]["ref"]["branch"]
        if expected != a:
            problems.append(f"{kind} {b.get('metadata', {}).get('name')}: unexpected change: {json.dumps(a)[:300]}")


def main():
    mode, before_file, after_file = sys.argv[1:4]
    before = json.load(open(before_file))
    after = json.load(open(after_file))
    problems = []
    if mode == "hcl":
        diff(before, after, [], problems, {})
    else:
        yaml_diff(before, after, problems)
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


main()
