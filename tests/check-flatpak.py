#!/usr/bin/python3
"""Check the Flatpak manifest offline.

    check-flatpak.py MANIFEST APP_ID DATA_DIR

Fails (exit 1, one line per problem) unless the manifest is well-formed
JSON with the required keys, every downloaded source is pinned by a sha256 or
a git commit, the sandbox permissions are exactly the ones Melodist needs (no
host file system, no network), and the app id, command and icon agree with
the desktop, metainfo and schema files in DATA_DIR.
"""
import json
import os
import re
import sys

# What the app uses: a GTK window (Wayland, X11 fallback, GL), playback.
# Files come through the document portal, so no --filesystem at all.
ALLOWED_FINISH_ARGS = {
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
    "--socket=pulseaudio",
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
DOWNLOADED = ("archive", "file", "extra-data")


def check_source(module, source, problems):
    kind = source.get("type")
    where = f"module {module}: source {kind}"
    if kind in DOWNLOADED and "url" in source:
        digest = source.get("sha256", "")
        if not SHA256.match(digest) or set(digest) == {"0"}:
            problems.append(f"{where} {source['url']} is not pinned by a sha256")
        if not source["url"].startswith("https://"):
            problems.append(f"{where} {source['url']} is not fetched over https")
    elif kind == "git":
        if not COMMIT.match(source.get("commit", "")):
            problems.append(f"{where} {source.get('url')} is not pinned by a commit")
    elif kind in ("dir", "file", "patch") and "path" in source:
        if kind == "dir" and module != "melodist":
            problems.append(f"{where}: only the melodist module may build a local dir")
    elif kind in ("shell", "script", "inline"):
        pass
    else:
        problems.append(f"{where}: unknown or incomplete source {source}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, app_id, data_dir = sys.argv[1:]
    problems = []
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        print(f"FAIL: {path}: {e}")
        return 1

    for key in ("id", "runtime", "runtime-version", "sdk", "command", "finish-args", "modules"):
        if key not in manifest:
            problems.append(f"missing key {key!r}")
    if manifest.get("id") != app_id:
        problems.append(f"id is {manifest.get('id')!r}, expected {app_id!r}")
    if manifest.get("runtime") != "org.gnome.Platform" or manifest.get("sdk") != "org.gnome.Sdk":
        problems.append("runtime/sdk must be org.gnome.Platform/org.gnome.Sdk")
    if not re.match(r"^\d+$", str(manifest.get("runtime-version", ""))):
        problems.append("runtime-version must be a stable GNOME release such as \"47\"")

    args = manifest.get("finish-args", [])
    for arg in args:
        if arg not in ALLOWED_FINISH_ARGS:
            problems.append(f"finish-arg {arg} is not needed by Melodist")
    for arg in ALLOWED_FINISH_ARGS - set(args):
        problems.append(f"finish-arg {arg} is missing")

    modules = manifest.get("modules", [])
    if not modules or not isinstance(modules[-1], dict) or modules[-1].get("name") != "melodist":
        problems.append("the last module must be melodist")
    elif modules[-1].get("buildsystem") != "meson":
        problems.append("the melodist module must use buildsystem meson")
    for module in modules:
        if not isinstance(module, dict):
            problems.append(f"module {module!r} must be inline, so its sources can be checked")
            continue
        name = module.get("name", "?")
        if not module.get("sources"):
            problems.append(f"module {name} has no sources")
        for source in module.get("sources", []):
            check_source(name, source, problems)

    # The manifest must agree with the data files it installs.
    desktop = os.path.join(data_dir, "io.github.melodist.Melodist.desktop.in")
    schema = os.path.join(data_dir, "io.github.melodist.Melodist.gschema.xml")
    metainfo = os.path.join(data_dir, "io.github.melodist.Melodist.metainfo.xml.in")
    icon = os.path.join(data_dir, "icons", "hicolor", "scalable", "apps", app_id + ".svg")
    try:
        with open(desktop, encoding="utf-8") as f:
            text = f.read()
        exec_line = re.search(r"^Exec=(\S+)", text, re.M)
        if not exec_line or exec_line.group(1) != manifest.get("command"):
            problems.append(f"command {manifest.get('command')!r} differs from the desktop file's Exec")
        if not re.search(r"^Icon=@app_id@$", text, re.M):
            problems.append("desktop file must use Icon=@app_id@")
        with open(schema, encoding="utf-8") as f:
            if f'id="{app_id}"' not in f.read():
                problems.append(f"schema id is not {app_id}")
        with open(metainfo, encoding="utf-8") as f:
            text = f.read()
            if "<id>@app_id@</id>" not in text or "@app_id@.desktop" not in text:
                problems.append("metainfo must use @app_id@ for <id> and <launchable>")
            if "<internet>offline-only</internet>" not in text:
                problems.append("metainfo must declare <internet>offline-only</internet>")
        if not os.path.isfile(icon):
            problems.append(f"icon {icon} is missing")
    except OSError as e:
        problems.append(str(e))

    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    print(f"{path}: {len(modules)} modules, all sources pinned, "
          f"{len(args)} finish-args, consistent with {app_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
