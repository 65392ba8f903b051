#!/usr/bin/env python3
"""Checks the Flatpak manifest offline: check-flatpak-manifest.py MANIFEST APP_ID

The runtime cannot be downloaded here, so this checks what can be: the file
is JSON, names the app id and the command the build installs, builds
OpenBLAS before the app from a pinned archive, builds the app from this
tree with meson, and asks for no broad filesystem access (files go through
the portal)."""

import json
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, app_id = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)

    problems = []

    def expect(condition, message):
        if not condition:
            problems.append(message)

    expect(manifest.get("id", manifest.get("app-id")) == app_id, f"the id is not {app_id}")
    expect(manifest.get("command") == "bert-studio", "the command is not bert-studio")
    for key in ("runtime", "runtime-version", "sdk"):
        expect(isinstance(manifest.get(key), str) and manifest[key], f"no {key}")
    expect(manifest.get("runtime") == "org.gnome.Platform", "the runtime is not org.gnome.Platform")
    expect(manifest.get("sdk") == "org.gnome.Sdk", "the SDK is not org.gnome.Sdk")

    args = manifest.get("finish-args", [])
    for arg in ("--share=ipc", "--socket=fallback-x11", "--socket=wayland", "--device=dri", "--share=network"):
        expect(arg in args, f"finish-args lack {arg}")
    broad = [a for a in args if a.startswith("--filesystem=")]
    expect(not broad, f"finish-args give filesystem access ({', '.join(broad)}); use the portal")

    modules = manifest.get("modules", [])
    names = [m.get("name") if isinstance(m, dict) else m for m in modules]
    expect("openblas" in names, "no openblas module")
    expect(names and names[-1] == "bert-studio", "the last module is not bert-studio")
    if "openblas" in names and "bert-studio" in names:
        expect(names.index("openblas") < names.index("bert-studio"), "openblas is not built before the app")
    for module in modules:
        if not isinstance(module, dict):
            continue
        for source in module.get("sources", []):
            if source.get("type") == "archive":
                sha = source.get("sha256", "")
                expect(len(sha) == 64 and all(c in "0123456789abcdef" for c in sha),
                       f"{module.get('name')}: the archive has no sha256")
        if module.get("name") == "openblas":
            commands = " ".join(module.get("build-commands", []))
            expect("DYNAMIC_ARCH=1" in commands, "openblas is not built with DYNAMIC_ARCH=1")
            expect("PREFIX=/app" in commands, "openblas is not installed into /app")
        if module.get("name") == "bert-studio":
            expect(module.get("buildsystem") == "meson", "bert-studio is not built with meson")
            sources = module.get("sources", [])
            expect(any(s.get("type") == "dir" and s.get("path") == ".." for s in sources),
                   "bert-studio is not built from this tree (a dir source with path \"..\")")

    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if not problems:
        print(f"{path}: {app_id}, {len(modules)} modules")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
