"""Copy the front-end assets pinned by package-lock.json into kla/static/vendor.

Run by `make vendor` after `npm ci`. The site serves only these copies, never a CDN; the
manifest it writes names each file's package, version, lock integrity and SHA-256, and
tests/kla/test_vendor.py checks the committed files against it and against the lock.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "kla" / "static" / "vendor"

# package -> [(file inside the package, name under kla/static/vendor)]
FILES: dict[str, list[tuple[str, str]]] = {
    "@picocss/pico": [
        ("css/pico.jade.min.css", "pico/pico.jade.min.css"),
        ("LICENSE.md", "pico/LICENSE.md"),
    ],
    "htmx.org": [
        ("dist/htmx.min.js", "htmx/htmx.min.js"),
        ("LICENSE", "htmx/LICENSE"),
    ],
}


def main() -> int:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    manifest: dict[str, dict[str, str]] = {}
    for package, files in FILES.items():
        pinned = lock[f"node_modules/{package}"]
        source = ROOT / "node_modules" / package
        installed = json.loads((source / "package.json").read_text(encoding="utf-8"))["version"]
        if installed != pinned["version"]:
            print(f"{package}: node_modules has {installed}, the lock pins {pinned['version']}")
            print("run `npm ci --ignore-scripts` first")
            return 1
        for inside, name in files:
            target = VENDOR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / inside, target)
            manifest[name] = {
                "package": package,
                "version": pinned["version"],
                "integrity": pinned["integrity"],
                "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (VENDOR / "MANIFEST.json").write_text(text, encoding="utf-8")
    print(f"{len(manifest)} files vendored into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
