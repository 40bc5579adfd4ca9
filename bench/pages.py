"""Pages and list APIs at city scale and at many cities' scale, as ratios measured in one run:
``python -m bench pages`` (needs ``DATABASE_URL`` naming a PostgreSQL server).

It builds two worlds with ``bench._world.build_world`` in two scratch databases of its own
(``<BENCH_DATABASE_PREFIX>pages_city`` and ``<BENCH_DATABASE_PREFIX>pages_world``, created by
this run and dropped at the end unless ``BENCH_KEEP=1``): one city (44 bodies, about 1,000
submissions) and ``BENCH_SCALE`` cities in one deployment (50 by default: 2,200 bodies, 50,000
submissions, about 450,000 trail events; 514 is the national world). Then, in this one process,
each page (``/tugas/``, ``/pengajuan/``, ``/kepatuhan/``, ``/cakupan/``, ``/jejak/``,
``/konsolidasi/``) and each list API (tasks, submissions, compliance, coverage, a submission's
trail, findings) is requested with Django's test client, rendering the real templates, as a
verifier of every body and as a verifier of a handful of bodies (and as the consolidator or the
auditor where that page is theirs), ``BENCH_RUNS`` times (3 by default) alternately in the city
and in the large world, after one unmeasured request in each.

The two databases have one connection each, kept open; the default alias is switched between
them before each request (never during one). Printed: the median time in each world, their
ratio, the queries of one request in each (``CaptureQueriesContext``) and the size of the large
world's answer; ``flat`` when the ratio is at most 1.5 and the query counts are equal. Ratios
are printed, never asserted.
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench._scratch import (
    create_database,
    drop_database,
    keep_requested,
    migrate,
    use_database,
)

SCALE = int(os.environ.get("BENCH_SCALE", "50"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
FLAT_RATIO = 1.5
REVIEWERS = ("verifier", "scoped_verifier")


@dataclass(frozen=True)
class Target:
    """One page or endpoint, and who asks for it."""

    label: str
    path: str  # ``{submission}``: the sample submission the person may see
    people: tuple[str, ...]
    api: bool = False


TARGETS = (
    Target("/tugas/", "/tugas/", REVIEWERS),
    Target("/pengajuan/", "/pengajuan/", REVIEWERS),
    Target("/kepatuhan/", "/kepatuhan/", REVIEWERS),
    Target("/cakupan/", "/cakupan/", (*REVIEWERS, "consolidator")),
    Target("/jejak/", "/jejak/", (*REVIEWERS, "auditor")),
    Target("/konsolidasi/", "/konsolidasi/", (*REVIEWERS, "consolidator")),
    Target("api tasks", "/api/v1/tasks/", REVIEWERS, api=True),
    Target("api submissions", "/api/v1/submissions/", REVIEWERS, api=True),
    Target("api compliance", "/api/v1/compliance/", REVIEWERS, api=True),
    Target("api coverage", "/api/v1/coverage/", (*REVIEWERS, "consolidator"), api=True),
    Target(
        "api trail", "/api/v1/submissions/{submission}/trail/", (*REVIEWERS, "auditor"), api=True
    ),
    Target("api findings", "/api/v1/findings/", (*REVIEWERS, "auditor"), api=True),
)


@dataclass
class Side:
    """One world: its database, its open connection and a signed-in client per person."""

    name: str
    database: str
    world: Any
    wrapper: Any = None
    pages: dict[str, Any] = field(default_factory=dict)
    apis: dict[str, Any] = field(default_factory=dict)

    def submission_for(self, person: str) -> int:
        if person == "scoped_verifier":
            return int(self.world.scoped_sample_submission)
        return int(self.world.sample_submission)


@dataclass
class Result:
    target: Target
    person: str
    times: dict[str, list[float]] = field(default_factory=lambda: {"city": [], "world": []})
    queries: dict[str, int] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)

    def median(self, side: str) -> float:
        return statistics.median(self.times[side])

    @property
    def answered(self) -> bool:
        """Both worlds answered 200: a refusal or an error measures nothing."""
        return self.status["city"] == self.status["world"] == 200

    @property
    def flat(self) -> bool:
        return (
            self.answered
            and self.median("world") <= FLAT_RATIO * self.median("city")
            and self.queries["city"] == self.queries["world"]
        )


@contextmanager
def _on(side: Side) -> Iterator[Any]:
    """Django's default alias is this side's connection while the block runs."""
    from django.db import connections

    previous = connections["default"]
    connections["default"] = side.wrapper
    try:
        yield side.wrapper
    finally:
        connections["default"] = previous


def _build(side: Side, scale: int, seed: int) -> None:
    from bench._world import build_world

    use_database(side.database)
    started = time.perf_counter()
    migrate()
    migrated = time.perf_counter() - started
    side.world = build_world(scale, seed=seed, progress=True)
    w = side.world
    print(
        f"{side.name} (x{scale}): {w.bodies:,} bodies, {w.submissions:,} submissions, "
        f"{w.events:,} trail events, {w.evidence:,} evidence, {w.timers:,} open timers, "
        f"{w.notifications:,} notifications, {w.findings:,} findings; "
        f"built in {w.total_seconds:.1f} s (migrations {migrated:.1f} s)",
        flush=True,
    )


def _sign_in(side: Side) -> None:
    """A session client and an API token client for each person, in this side's database."""
    from django.contrib.auth.models import User
    from django.test import Client
    from knox.models import AuthToken

    with _on(side):
        for person, pk in side.world.people.items():
            user = User.objects.get(pk=pk)
            page = Client(raise_request_exception=False)
            page.force_login(user)
            side.pages[person] = page
            _instance, token = AuthToken.objects.create(user)
            side.apis[person] = Client(
                raise_request_exception=False, headers={"Authorization": f"Token {token}"}
            )


def _request(side: Side, target: Target, person: str) -> tuple[float, int, int, int]:
    """One request: seconds, queries, bytes, status."""
    from django.test.utils import CaptureQueriesContext

    client = (side.apis if target.api else side.pages)[person]
    path = target.path.format(submission=side.submission_for(person))
    with _on(side) as connection, CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        elapsed = time.perf_counter() - started
    return elapsed, len(queries.captured_queries), len(body), response.status_code


def _measure(city: Side, world: Side) -> list[Result]:
    results = []
    for target in TARGETS:
        for person in target.people:
            result = Result(target, person)
            for side in (city, world):  # warm: templates, plans, the connection's caches
                _request(side, target, person)
            for run in range(RUNS):
                # Which world goes first alternates, so neither always follows the other.
                order = (("city", city), ("world", world))
                for key, side in order if run % 2 == 0 else order[::-1]:
                    elapsed, queries, size, status = _request(side, target, person)
                    result.times[key].append(elapsed)
                    result.queries[key] = queries
                    result.size[key] = size
                    result.status[key] = status
            results.append(result)
            _print_row(result)
    return results


HEADER = (
    f"{'page':<17} {'person':<16} {'city ms':>8} {'world ms':>9} {'ratio':>6} "
    f"{'q city':>6} {'q world':>7} {'KiB world':>9}  flat"
)


def _print_row(result: Result) -> None:
    city, world = result.median("city") * 1e3, result.median("world") * 1e3
    ratio = world / city if city else float("inf")
    flat = "yes" if result.flat else "no"
    if ratio > FLAT_RATIO:
        flat += " (time)"
    if result.queries["city"] != result.queries["world"]:
        flat += " (queries)"
    if not result.answered:
        flat += f" (status {result.status['city']}/{result.status['world']})"
    print(
        f"{result.target.label:<17} {result.person:<16} {city:8.1f} {world:9.1f} {ratio:6.2f} "
        f"{result.queries['city']:6d} {result.queries['world']:7d} "
        f"{result.size['world'] / 1024:9.1f}  {flat}",
        flush=True,
    )


def main() -> None:
    """Build both worlds, measure every page and list API in both, print the table."""
    from bench._scratch import setup_django

    setup_django()
    # WhiteNoise looks for collected static files, which the pages measured do not need.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    from django.db import connections
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.urls import get_resolver

    # Every view is imported now, before the worlds are built: the code measured is the code
    # as it was when the bench started, and an import that fails stops it at once.
    get_resolver().url_patterns  # noqa: B018 -- imports the URLconf and its views

    base = connections["default"]
    original_name = str(base.settings_dict["NAME"])
    made: list[str] = []
    sides: list[Side] = []
    keep = keep_requested()
    setup_test_environment()
    try:
        for bench, label, scale, seed in (
            ("pages_city", "city", 1, 1),
            ("pages_world", "world", SCALE, 2),
        ):
            made.append(create_database(bench))
            side = Side(label, made[-1], None)
            _build(side, scale, seed)
            sides.append(side)
        use_database(original_name)
        for side in sides:
            settings_dict = {**base.settings_dict, "NAME": side.database}
            side.wrapper = base.__class__(settings_dict, alias="default")
            _sign_in(side)
        city, world = sides
        print(
            f"\n{RUNS} runs each, alternately; medians; world x{SCALE} against one city; "
            f"flat: ratio <= {FLAT_RATIO} and the same queries",
            flush=True,
        )
        print(HEADER, flush=True)
        results = _measure(city, world)
        print(f"flat: {sum(r.flat for r in results)} of {len(results)}", flush=True)
    finally:
        teardown_test_environment()
        for side in sides:
            if side.wrapper is not None:
                side.wrapper.close()
        connections.close_all()
        use_database(original_name)
        for name in made:
            if keep:
                print(f"scratch database {name} kept (BENCH_KEEP); drop it by hand when done")
            else:
                drop_database(name)
        if made and not keep:
            print(f"scratch databases {', '.join(made)} dropped")


if __name__ == "__main__":
    main()
