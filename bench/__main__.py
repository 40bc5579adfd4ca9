"""``python -m bench [NAME ...]``: run every benchmark in bench/ (or only those named).

Generic on purpose: each module ``bench/<name>.py`` that defines ``main()`` is imported and
its ``main()`` called, in name order. Modules starting with ``_`` are helpers, not benches.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent)])
        if not info.name.startswith("_")
    )
    unknown = wanted - set(names)
    if unknown:
        print(f"unknown bench: {', '.join(sorted(unknown))}; have: {', '.join(names)}")
        return 2
    for name in names:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if not callable(run):
            continue
        print(f"== bench.{name}", flush=True)
        run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
