"""The front-end assets are the ones the lock file pins, vendored, and the pages use no other."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VENDOR = ROOT / "kla" / "static" / "vendor"


def test_every_vendored_file_is_the_one_its_manifest_names() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest
    on_disk = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()} - {
        "MANIFEST.json"
    }
    assert on_disk == set(manifest)
    for name, entry in manifest.items():
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name} changed since scripts/vendor_assets.py"


def test_the_manifest_follows_the_lock_file() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    wanted = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    assert {e["package"] for e in manifest.values()} == set(wanted)
    for entry in manifest.values():
        pinned = lock[f"node_modules/{entry['package']}"]
        assert entry["version"] == pinned["version"] == wanted[entry["package"]]
        assert entry["integrity"] == pinned["integrity"]


def test_no_template_loads_anything_from_another_site() -> None:
    external = re.compile(r"""<(?:script|link)[^>]+(?:src|href)=["'](?:https?:)?//""", re.I)
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "templates").rglob("*.html")
        if external.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
