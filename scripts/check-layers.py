#!/usr/bin/env python3
"""Fail when the module graph has a cycle or an edge that points up the layer order.

A module is a folder under src/ (with its headers under include/coder_dns_doctor/<module>/);
src/main.cpp is the module `main`. An edge M -> N is an `#include <coder_dns_doctor/N/...>` in a
file of M. The allowed order is LAYERS below, bottom first: a module may include only modules on a
strictly lower layer (modules on one layer are independent of each other). Cycles are looked for
in the real graph as well, so a wrong table cannot hide one.

Usage: check-layers.py [ROOT]      (ROOT: the repository, default: this script's parent)
Exit status: 0 clean, 1 a violation (each printed on one line), 2 bad usage or unknown module.
"""
import re
import sys
from pathlib import Path

# Bottom first. Keep in step with README.md ("Architecture": the layer order).
LAYERS = [
    ["core"],                  # vocabulary: exit statuses, usage error, version
    ["util"],                  # strings, addresses, URLs, durations, bounded reads, atomic files
    ["dns", "http", "config", "patch", "ws"],  # one library or one job each; patch edits files only
    ["truth", "transport"],    # what each host should resolve to; judging an agent's own connection
    ["k8s", "coderapi", "probe"],  # the Kubernetes and coderd API readers; the probe engine (plan, loop, observations)
    ["analysis"],              # observations + truth + kube facts -> findings, verdict
    ["report"],                # the report value, JSON and text
    ["doctor"],                # one whole check: kube -> plan additions -> probe -> evaluate
    ["daemon", "rollout"],     # serve/sidecar: metrics, HTTP endpoints, reload loop; rollout: the fix applied and verified
    ["cli"],                   # argv -> settings -> a command
    ["main"],
]

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]coder_dns_doctor/([A-Za-z0-9_]+)/', re.M)


def rank_table():
    return {module: rank for rank, layer in enumerate(LAYERS) for module in layer}


def module_files(root: Path):
    """Yield (module, path) for every C++ file of the program."""
    src, inc = root / "src", root / "include" / "coder_dns_doctor"
    if (src / "main.cpp").is_file():
        yield "main", src / "main.cpp"
    for base in (src, inc):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix in (".cpp", ".hpp", ".h", ".cc") and path.parent != base:
                yield path.relative_to(base).parts[0], path


def edges(root: Path):
    """Return {(from, to): first file that makes the edge} and the set of modules seen."""
    found, modules = {}, set()
    for module, path in module_files(root):
        modules.add(module)
        text = path.read_text(encoding="utf-8", errors="replace")
        for target in INCLUDE.findall(text):
            if target != module:
                found.setdefault((module, target), path.relative_to(root))
    return found, modules


def cycles(graph_edges):
    """Return the strongly connected components with more than one module (Tarjan)."""
    graph = {}
    for a, b in graph_edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(root: Path):
    """Return (problems, unknown modules) for the tree at `root`."""
    ranks = rank_table()
    found, modules = edges(root)
    unknown = sorted((modules | {b for _, b in found}) - set(ranks))
    problems = []
    for (a, b), where in sorted(found.items()):
        if a in ranks and b in ranks and ranks[b] >= ranks[a]:
            kind = "sideways" if ranks[b] == ranks[a] else "upward"
            problems.append(f"{where}: {kind} edge {a} -> {b} (layer {ranks[a]} may include only layers below it)")
    for component in cycles(found):
        problems.append(f"cycle: {' <-> '.join(component)}")
    return problems, unknown


def main(argv):
    if len(argv) > 2:
        print("usage: check-layers.py [ROOT]", file=sys.stderr)
        return 2
    root = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent.parent
    if not (root / "src").is_dir():
        print(f"check-layers: {root}: expected a repository with a src/ folder", file=sys.stderr)
        return 2
    problems, unknown = check(root)
    for module in unknown:
        print(f"check-layers: module {module} is not in the layer table (scripts/check-layers.py LAYERS)",
              file=sys.stderr)
    for problem in problems:
        print(problem)
    if unknown:
        return 2
    if problems:
        return 1
    print(f"check-layers: {sum(len(layer) for layer in LAYERS)} modules on {len(LAYERS)} layers, no cycle,"
          " no upward or sideways edge")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
