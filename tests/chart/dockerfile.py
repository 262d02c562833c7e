#!/usr/bin/env python3
"""Read the Dockerfile (the one source of the image's runtime packages, user and layout) for the
chroot test, and check its shape.

    dockerfile.py runtime-runs      the runtime stage's RUN commands, NUL-separated, ARGs expanded
    dockerfile.py runtime-packages  the packages its `apt-get install` names, one per line
    dockerfile.py user              the USER (UID:GID)
    dockerfile.py binary            where the runtime stage COPYs the binary
    dockerfile.py binary-source     what it COPYs there from the build stage
    dockerfile.py check             multi-stage Debian 12, deps script + the image's static libraries +
                                    CMake with CDD_IMAGE_DEPS in the build stage, only
                                    runtime libraries, non-root numeric USER equal to the chart's,
                                    ENTRYPOINT/CMD, OCI labels, EXPOSE = the chart's port, .dockerignore
"""
import json
import os
import pathlib
import re
import shlex
import sys

import yaml

SOURCE = pathlib.Path(os.environ.get("CDD_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def instructions(text):
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    result, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        current = ""
    return result


def stages(text):
    """{stage name: [(INSTRUCTION, args)]} plus the global ARG defaults."""
    global_args, result, name = {}, {}, None
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            match = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            name = match.group(2) or f"stage{len(result)}"
            result[name] = [("FROM", expand(match.group(1), global_args))]
        elif name is None:
            if keyword == "ARG":
                key, _, value = rest.partition("=")
                global_args[key] = value
        else:
            result[name].append((keyword, rest))
    return result, global_args


def expand(text, args):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)


def runtime():
    all_stages, global_args = stages((SOURCE / "Dockerfile").read_text())
    name = list(all_stages)[-1]
    args = dict(global_args)
    for keyword, rest in all_stages[name]:
        if keyword == "ARG":
            key, _, value = rest.partition("=")
            args[key] = value
    return all_stages, name, args


def runtime_runs():
    all_stages, name, args = runtime()
    return [expand(rest, args) for keyword, rest in all_stages[name] if keyword == "RUN"]


def runtime_packages():
    packages = []
    for run in runtime_runs():
        for command in re.split(r"&&|;", run):
            words = shlex.split(command)
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
                packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return packages


def last(keyword):
    all_stages, name, _ = runtime()
    found = [rest for k, rest in all_stages[name] if k == keyword]
    return found[-1] if found else None


def binary_copy():
    """(source, destination) of the runtime stage's COPY --from of the binary, or (None, None)."""
    all_stages, name, _ = runtime()
    for keyword, rest in all_stages[name]:
        if keyword == "COPY" and "--from=" in rest and re.search(r"/coder-dns-doctor(-image)?$", rest.split()[-2]):
            return rest.split()[-2], rest.split()[-1]
    return None, None


def binary_destination():
    return binary_copy()[1]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check():
    text = (SOURCE / "Dockerfile").read_text()
    all_stages, name, args = runtime()
    if len(all_stages) < 2:
        fail("the Dockerfile is not multi-stage")
    for stage, body in all_stages.items():
        base = body[0][1]
        if not re.fullmatch(r"(docker\.io/(library/)?)?debian:(12|bookworm)(-slim)?(@sha256:[0-9a-f]{64})?", base):
            fail(f"stage {stage} is not based on Debian 12: {base}")
    build = " ".join(rest for _, body in list(all_stages.items())[:-1] for k, rest in body if k == "RUN")
    if "scripts/install-deps.sh" not in build or "scripts/build.sh" not in build:
        fail("the build stage must run scripts/install-deps.sh and scripts/build.sh (CMake)")
    if "scripts/build-image-deps.sh /image-deps" not in build or "-DCDD_IMAGE_DEPS=/image-deps" not in build:
        fail("the build stage must build the image's static libraries and link with them (CDD_IMAGE_DEPS)")
    packages = runtime_packages()
    if not packages:
        fail("the runtime stage installs no packages with apt-get install")
    heavy = [p for p in packages if p.endswith("-dev") or p in ("build-essential", "cmake", "g++", "gcc", "git")]
    if heavy:
        fail(f"the runtime stage installs build packages: {heavy}")
    if "--no-install-recommends" not in " ".join(runtime_runs()):
        fail("the runtime apt-get install must use --no-install-recommends")
    user = last("USER")
    values = yaml.safe_load((SOURCE / "charts/coder-dns-doctor/values.yaml").read_text())
    want_user = f"{values['podSecurityContext']['runAsUser']}:{values['podSecurityContext']['runAsGroup']}"
    if user != want_user:
        fail(f"USER is {user!r}; the chart runs as {want_user} (numeric, so runAsNonRoot can verify it)")
    if json.loads(last("ENTRYPOINT")) != ["coder-dns-doctor"] or json.loads(last("CMD")) != ["serve"]:
        fail('expected ENTRYPOINT ["coder-dns-doctor"] and CMD ["serve"]')
    if not binary_destination() or not binary_destination().startswith(("/usr/local/bin/", "/usr/bin/")):
        fail("the binary is not copied from the build stage into a PATH directory")
    labels = " ".join(rest for k, rest in all_stages[name] if k == "LABEL")
    for label in ("title", "description", "source", "version", "revision"):
        if f"org.opencontainers.image.{label}=" not in labels:
            fail(f"missing OCI label org.opencontainers.image.{label}")
    if last("EXPOSE") != str(values["port"]):
        fail(f"EXPOSE {last('EXPOSE')} differs from the chart's port {values['port']}")
    ignore = (SOURCE / ".dockerignore").read_text().split()
    for pattern in (".git", "build*", ".tools/", ".sandbox/"):
        if pattern not in ignore:
            fail(f".dockerignore does not exclude {pattern}")
    print(f"ok Dockerfile: {len(all_stages)} stages on Debian 12, runtime packages {' '.join(packages)}, "
          f"USER {user}, binary {binary_destination()}, ENTRYPOINT/CMD, OCI labels, .dockerignore")


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "runtime-runs":
        sys.stdout.write("\0".join(runtime_runs()) + "\0")
    elif command == "runtime-packages":
        print("\n".join(runtime_packages()))
    elif command == "user":
        print(last("USER"))
    elif command == "binary":
        print(binary_destination())
    elif command == "binary-source":
        print(binary_copy()[0])
    elif command == "check":
        check()
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
