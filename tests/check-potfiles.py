#!/usr/bin/env python3
"""Keeps po/POTFILES.in complete: check-potfiles.py SOURCE_ROOT

Fails, naming the file, when a file under src/ or ui/ has translatable
strings (C: _(), N_(), C_(), NC_(), Q_() or g_dngettext(); .ui:
translatable="yes") but is not listed, when a listed file does not exist,
or when the list is not sorted. Needs no xgettext."""

import os
import re
import sys

SCANNED_DIRS = ("src", "ui")

# Comments and literals, so that a marker in either does not count.
C_NOISE = re.compile(
    r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
    re.DOTALL,
)
C_MARKER = re.compile(r"(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|Q_|g_dngettext|g_dpgettext2)\s*\(")
UI_MARKER = re.compile(r'translatable\s*=\s*["\'](?:yes|true|1)["\']')


def strip_c_noise(text):
    def blank(match):
        token = match.group(0)
        if token.startswith('"') or token.startswith("'"):
            return token[0] + token[-1]
        return " "

    return C_NOISE.sub(blank, text)


def is_translatable(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if path.endswith((".c", ".h")):
        return C_MARKER.search(strip_c_noise(text)) is not None
    if path.endswith(".ui"):
        return UI_MARKER.search(text) is not None
    return False


def read_potfiles(path):
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    return [line for line in lines if line and not line.startswith("#")]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = sys.argv[1]
    potfiles_path = os.path.join(root, "po", "POTFILES.in")
    listed = read_potfiles(potfiles_path)
    problems = []

    for name in listed:
        if not os.path.isfile(os.path.join(root, name)):
            problems.append(f"po/POTFILES.in lists {name}, which does not exist")
    if listed != sorted(listed):
        for before, after in zip(listed, listed[1:]):
            if before > after:
                problems.append(f"po/POTFILES.in is not sorted: {after} should come before {before}")
                break
    seen = set()
    for name in listed:
        if name in seen:
            problems.append(f"po/POTFILES.in lists {name} twice")
        seen.add(name)

    for top in SCANNED_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                name = os.path.relpath(path, root).replace(os.sep, "/")
                if name not in seen and is_translatable(path):
                    problems.append(f"{name} has translatable strings but is not in po/POTFILES.in")

    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"po/POTFILES.in: {len(listed)} files, complete and sorted")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
