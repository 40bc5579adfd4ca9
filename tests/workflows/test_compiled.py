"""The action's statements compiled once (``workflows.compiled``): the instances they build are
the ORM's, what a person may not see stays unseen, and on PostgreSQL they run prepared unless
``DATABASE_PREPARED_STATEMENTS`` turns that off (a pooler that does not carry them over).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.db.transaction import TransactionManagementError
from django.test import override_settings

from kla.models import Submission
from roles.roles import roles_of
from tests import factories as f
from workflows.compiled import _PreparedCursor, compiled_cursor, prepared, sent_together
from workflows.locked_read import lock_submission
from workflows.models import TrailStream
from workflows.services import submission_act

pytestmark = pytest.mark.django_db


def _values(instance: Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_locking_read_builds_the_instances_the_orm_builds(
    submitted: Submission, verifier: Any, django_assert_num_queries: Any
) -> None:
    expected = Submission.objects.select_related("instruction", "body").get(pk=submitted.pk)
    with transaction.atomic():
        locked = lock_submission(roles_of(verifier), submitted.pk)
    assert locked is not None
    assert _values(locked) == _values(expected)
    assert isinstance(locked.details, dict) and locked.details == expected.details
    assert not locked._state.adding and locked._state.db == connection.alias
    # Its instruction and body came with it, as select_related gives them.
    with django_assert_num_queries(0):
        assert _values(locked.instruction) == _values(expected.instruction)
        assert _values(locked.body) == _values(expected.body)


def test_the_locking_read_finds_nothing_a_person_may_not_see(
    draft: Submission, submitted: Submission, other_operator: Any, verifier: Any, operator: Any
) -> None:
    other_draft = f.make_draft(operator, title="Masih draf")
    with transaction.atomic():
        # Another body's operator sees neither; a verifier sees what was handed in, not drafts.
        assert lock_submission(roles_of(other_operator), submitted.pk) is None
        assert lock_submission(roles_of(verifier), other_draft.pk) is None
        assert lock_submission(roles_of(verifier), submitted.pk) is not None
        assert lock_submission(roles_of(operator), other_draft.pk) is not None
        assert lock_submission(roles_of(operator), 987_654_321) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_action_statements_run_prepared(people: dict[str, Any]) -> None:
    draft = f.make_draft(people["operator"])
    connection.close()  # a connection of its own: nothing prepared on it yet
    assert prepared()
    # A hand-in (its read carries the files and indicators as JSON and arrays), then a review.
    submission_act(user=people["operator"], submission_id=draft.pk, action="submit")
    submission_act(user=people["verifier"], submission_id=draft.pk, action="approve")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        joined = "\n".join(row[0] for row in cursor.fetchall())
    assert 'INSERT INTO "workflows_trailevent"' in joined
    assert 'UPDATE "kla_submission" SET state = $1' in joined
    assert "INSERT INTO workflows_notification" in joined
    assert 'FROM "kla_submission"' in joined  # the locking read
    assert "JSONB_AGG" in joined.upper()  # the hand-in's read
    draft.refresh_from_db()
    assert draft.state == "verified" and draft.first_submitted_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_prepared_statements_off_nothing_is_prepared(people: dict[str, Any]) -> None:
    submission = f.advance(f.make_draft(people["operator"]), "submitted", **people)
    connection.close()
    with override_settings(DATABASE_PREPARED_STATEMENTS=False):
        assert not prepared()
        with compiled_cursor() as cursor:
            assert not isinstance(cursor.cursor, _PreparedCursor)
        submission_act(user=people["verifier"], submission_id=submission.pk, action="approve")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] == 0
    submission.refresh_from_db()
    assert submission.state == "verified"


def test_a_person_who_sees_nothing_locks_nothing(submitted: Submission, outsider: Any) -> None:
    with transaction.atomic():
        assert lock_submission(roles_of(outsider), submitted.pk) is None


def _break_the_head(cursor: Any, submission: Submission) -> None:
    """A statement that fails: a second head for the submission's stream breaks its UNIQUE."""
    heads = TrailStream._meta.db_table
    cursor.execute(
        f"INSERT INTO {heads} (name, seq, head_hash) VALUES (%s, 0, %s)",
        [submission.stream, "0" * 64],
    )


def _retitle(cursor: Any, submission: Submission) -> None:
    table = Submission._meta.db_table
    cursor.execute(f"UPDATE {table} SET title = %s WHERE id = %s", ["Ubah", submission.pk])


@pytest.mark.postgres
def test_statements_sent_together_fail_as_djangos_errors_when_answered(
    submitted: Submission,
) -> None:
    """Inside ``sent_together`` a failing statement does not stop the code that sends the
    next ones; its error (Django's) comes when the block ends, the statements after it do not
    run and the transaction undoes the ones before it."""
    sent_after = False
    with pytest.raises(IntegrityError), transaction.atomic(), sent_together():
        with compiled_cursor() as cursor:
            _break_the_head(cursor, submitted)
        sent_after = True  # one at a time, the INSERT would have raised already
        with compiled_cursor() as cursor:
            _retitle(cursor, submitted)
    assert sent_after
    submitted.refresh_from_db()
    assert submitted.title != "Ubah"
    # The connection goes on serving.
    assert Submission.objects.filter(pk=submitted.pk).exists()


@pytest.mark.postgres
def test_an_exception_inside_statements_sent_together_undoes_them(
    submitted: Submission,
) -> None:
    with pytest.raises(RuntimeError, match="halfway"), transaction.atomic(), sent_together():
        with compiled_cursor() as cursor:
            _retitle(cursor, submitted)
        raise RuntimeError("halfway")
    submitted.refresh_from_db()
    assert submitted.title != "Ubah"
    assert Submission.objects.filter(pk=submitted.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_statements_are_sent_together_only_inside_a_transaction() -> None:
    with pytest.raises(TransactionManagementError), sent_together():
        pass  # pragma: no cover - refused on entering
