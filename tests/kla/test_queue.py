"""Nothing slow on the action's path: a broker that refuses, hangs or is gone never holds up
an answer, and what was owed goes out once it is back (the relay).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from kla.celery import app as celery_app
from kla.models import Export, ExportState, Submission
from kla.queue import IDS_PER_MESSAGE, HandOver, Publisher, coalesced, publisher
from kla.reports.exports import PENDING_STALE, export_request, exports_requeue_stale
from workflows.models import Notification
from workflows.notifications.outbox import outbox_send

from .conftest import url

pytestmark = pytest.mark.django_db
# How long the broker's sockets may wait here; an answer must come in a fraction of it.
SOCKET_TIMEOUT = 10.0
AT_ONCE = SOCKET_TIMEOUT / 5


class HungBroker:
    """A TCP server on the loopback that accepts every connection and never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.accepted = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.clients.append(client)
            self.accepted.set()

    def close(self) -> None:
        self.server.close()
        for client in self.clients:
            client.close()


def _reset_producers() -> None:
    # Connections and producers are pooled per URL: forget them, so the next send reads the
    # broker settings just set.
    celery_app._after_fork()  # type: ignore[attr-defined]


BROKER_KEYS = (
    "broker_url",
    "broker_transport_options",
    "broker_connection_timeout",
    "task_always_eager",
)


@contextlib.contextmanager
def _broker(**conf: Any) -> Iterator[None]:
    """Point the Celery app at another broker, with tasks not run inline, then back."""
    saved = {key: celery_app.conf[key] for key in BROKER_KEYS}
    celery_app.conf.update(task_always_eager=False, **conf)
    _reset_producers()
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        _reset_producers()


@pytest.fixture
def hung_broker() -> Iterator[HungBroker]:
    hung = HungBroker()
    timeouts = {"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT}
    with _broker(
        broker_url=f"redis://127.0.0.1:{hung.port}/0",
        broker_transport_options=timeouts,
        broker_connection_timeout=SOCKET_TIMEOUT,
    ):
        yield hung
        hung.close()  # the publisher's pending send fails at once, and it gives up


@pytest.fixture
def closed_broker() -> Iterator[None]:
    with _broker(broker_url="redis://127.0.0.1:1/0", broker_connection_timeout=1):
        yield


def _answered(call: Any, capture: Any) -> tuple[Any, float]:
    """The response and how long it took, the work handed over on commit included."""
    start = time.monotonic()
    with capture(execute=True):
        result = call()
    return result, time.monotonic() - start


def test_an_action_answers_at_once_while_the_broker_hangs(
    api: Any,
    draft: Submission,
    operator: User,
    verifier: User,
    hung_broker: HungBroker,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api.as_(operator)
    response, took = _answered(
        lambda: client.post(url(draft, "actions"), {"action": "submit"}, format="json"),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200
    assert took < AT_ONCE, f"the submit waited {took:.1f} s for the broker"
    # The publisher did try: the hung broker took its connection, and the answer came anyway.
    assert hung_broker.accepted.wait(AT_ONCE)
    owed = Notification.objects.filter(user=verifier, emailed_at__isnull=True)
    assert owed.count() == 1
    # The broker is back (the relay runs on a worker): what was owed goes out, once.
    assert outbox_send() == 1
    assert [m.to for m in mail.outbox] == [[verifier.email]]
    assert outbox_send() == 0


def test_an_export_request_answers_at_once_while_the_broker_hangs(
    api: Any, consolidator: User, hung_broker: HungBroker, django_capture_on_commit_callbacks: Any
) -> None:
    client = api.as_(consolidator)
    response, took = _answered(
        lambda: client.post("/api/v1/exports/", {"kind": "rekap_xlsx"}, format="json"),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 201
    assert took < AT_ONCE, f"the export request waited {took:.1f} s for the broker"
    export = Export.objects.get(pk=response.json()["id"])
    assert export.state == ExportState.PENDING


def test_with_the_broker_gone_the_action_succeeds_and_the_relay_sends_later(
    api: Any,
    draft: Submission,
    operator: User,
    verifier: User,
    closed_broker: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_(operator).post(
            url(draft, "actions"), {"action": "submit"}, format="json"
        )
    assert response.status_code == 200
    publisher.join()  # the hand-over was tried and given up (the broker refused at once)
    assert mail.outbox == []
    assert outbox_send() == 1
    assert [m.to for m in mail.outbox] == [[verifier.email]]


def test_a_pending_export_is_queued_again_by_the_relay(
    consolidator: User, closed_broker: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(user=consolidator, kind="rekap_xlsx")
    publisher.join()
    Export.objects.filter(pk=export.pk).update(updated_at=export.updated_at - 2 * PENDING_STALE)
    celery_app.conf.task_always_eager = True  # the broker is back; the worker runs it here
    assert exports_requeue_stale() == [export.pk]
    export.refresh_from_db()
    assert export.state == ExportState.DONE


def test_a_full_publisher_refuses_without_waiting_and_leaves_the_work_to_the_relay() -> None:
    full = Publisher()
    full._queue = queue.Queue(maxsize=1)
    full._queue.put_nowait(HandOver("workflows.tasks.send_notification_emails", ([1],), ids=True))
    assert full.submit("workflows.tasks.send_notification_emails", ([2],)) is False
    assert full._thread is None  # nothing was started for work it did not take


def test_lists_of_ids_for_one_task_go_as_one_message_in_the_order_they_came() -> None:
    email, export = "workflows.tasks.send_notification_emails", "kla.reports.tasks.build_export"
    batch = [
        HandOver(email, ([1, 2],), ids=True),
        HandOver(export, (7,)),
        HandOver(email, ([2, 3],), ids=True),
        HandOver(export, (8,)),
    ]
    assert coalesced(batch) == [(email, ([1, 2, 3],)), (export, (7,)), (export, (8,))]


def test_a_long_list_of_ids_is_cut_into_messages_of_bounded_size() -> None:
    email = "workflows.tasks.send_notification_emails"
    ids = list(range(IDS_PER_MESSAGE * 2 + 1))
    messages = coalesced([HandOver(email, (ids,), ids=True)])
    assert [len(args[0]) for _name, args in messages] == [IDS_PER_MESSAGE, IDS_PER_MESSAGE, 1]
    assert [i for _name, args in messages for i in args[0]] == ids


def test_the_publisher_sends_ids_handed_over_together_in_one_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def publish(name: str, *args: Any) -> bool:
        sent.append((name, args))
        return True

    monkeypatch.setattr("kla.queue.publish", publish)
    # A linger long enough for three hand-overs on a busy machine.
    monkeypatch.setattr("kla.queue.LINGER_SECONDS", 2.0)
    fresh = Publisher()
    email = "workflows.tasks.send_notification_emails"
    # Three hand-overs at once, as three actions committing within the linger would make.
    for ids in ([1], [2], [3]):
        assert fresh.submit(email, (ids,), ids=True)
    fresh.join()
    assert sent == [(email, ([1, 2, 3],))]
    # Other work is not held back for the linger, nor merged; it ends a linger, and nothing
    # passes it.
    started = time.monotonic()
    assert fresh.submit("kla.reports.tasks.build_export", (9,))
    assert fresh.submit("kla.reports.tasks.build_export", (10,))
    fresh.join()
    assert time.monotonic() - started < 1.0
    assert fresh.submit(email, ([4],), ids=True)
    assert fresh.submit("kla.reports.tasks.build_export", (11,))
    assert fresh.submit(email, ([5],), ids=True)
    fresh.join()
    assert sent[1:] == [
        ("kla.reports.tasks.build_export", (9,)),
        ("kla.reports.tasks.build_export", (10,)),
        (email, ([4],)),
        ("kla.reports.tasks.build_export", (11,)),
        (email, ([5],)),
    ]
