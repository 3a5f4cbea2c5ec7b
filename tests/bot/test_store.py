from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from threading import Barrier
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.store import Store, StoreUnavailable, make_engine, transaction
from bot.store.__main__ import main as store_cli
from bot.store.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.store.models import Conversation, metadata
from bot.store.repository import append_message, ensure_conversation, record_feedback, transcript


def schema(engine: Engine) -> dict[str, Any]:
    """What the database reports about every table, in a comparable form."""
    insp = inspect(engine)
    tables: dict[str, Any] = {}
    for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        tables[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in insp.get_foreign_keys(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
            "checks": sorted(c["name"] for c in insp.get_check_constraints(table)),
        }
    return tables


def assert_migration_matches_models(migrated_url: str, created_url: str) -> None:
    upgrade(migrated_url)
    created = make_engine(created_url)
    migrated = make_engine(migrated_url)
    try:
        metadata.create_all(created)
        got, want = schema(migrated), schema(created)
        assert set(got) == set(metadata.tables)
        for table in want:
            assert got[table] == want[table], table
        with migrated.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        created.dispose()
        migrated.dispose()


def test_migration_matches_models_sqlite(tmp_path: Path) -> None:
    assert_migration_matches_models(
        f"sqlite:///{tmp_path / 'migrated.db'}", f"sqlite:///{tmp_path / 'created.db'}"
    )


def test_migration_matches_models_postgresql(pg_database: Callable[[], str]) -> None:
    assert_migration_matches_models(pg_database(), pg_database())


def test_upgrade_creates_the_folder_and_is_repeatable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'dir' / 'db.sqlite'}"
    upgrade(url)
    upgrade(url)
    head = head_revision()
    assert head is not None
    assert current_revision(url) == head


def test_cli_upgrade_reads_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert store_cli(["upgrade"]) == 0
    head = head_revision()
    assert head is not None
    assert current_revision(url) == head
    assert f"revision {head}" in capsys.readouterr().out


def test_sqlite_connection_settings(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_store_fails_fast_on_unreachable_database() -> None:
    with pytest.raises(StoreUnavailable, match="cannot connect"):
        Store("postgresql://nobody:secret@127.0.0.1:1/none")


def test_messages_are_ordered_masked_and_timestamped(store: Store) -> None:
    buttons = [{"title": "Ja", "payload": "/affirm"}]
    with store.transaction() as s:
        ensure_conversation(s, "abc", "0101")
        append_message(s, "abc", "citizen", "Mit cpr er 010190-1234")
        append_message(s, "abc", "bot", "Tak. Passede det?", buttons=buttons)
        append_message(s, "abc", "agent", "Hej, jeg hedder Mette")
    with store.transaction() as s:
        messages = transcript(s, "abc")
        conversation = s.get(Conversation, "abc")
    assert [(m.seq, m.sender) for m in messages] == [(1, "citizen"), (2, "bot"), (3, "agent")]
    assert messages[0].text == "Mit cpr er [CPR-nummer skjult]"
    assert messages[1].buttons == buttons
    assert messages[2].created_at.utcoffset().total_seconds() == 0
    assert conversation.state == "bot" and conversation.municipality == "0101"
    assert conversation.updated_at >= conversation.created_at


def test_ensure_conversation_keeps_the_first_municipality(store: Store) -> None:
    with store.transaction() as s:
        ensure_conversation(s, "abc", "0101")
    with store.transaction() as s:
        assert ensure_conversation(s, "abc", "0999").municipality == "0101"
        assert s.execute(text("SELECT count(*) FROM conversations")).scalar() == 1


def test_append_message_needs_a_conversation(store: Store) -> None:
    with pytest.raises(LookupError), store.transaction() as s:
        append_message(s, "nobody", "citizen", "hej")


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive"), store.transaction() as s:
        s.add(Conversation(id="x", municipality="*", created_at=datetime(2026, 1, 1)))
        s.flush()


def test_concurrent_appends_get_distinct_consecutive_seqs(store: Store) -> None:
    with store.transaction() as s:
        ensure_conversation(s, "busy", "*")
    barrier = Barrier(8)

    def send(i: int) -> None:
        barrier.wait()
        with transaction(store.sessions) as s:
            append_message(s, "busy", "citizen", f"besked {i}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(8)))
    with store.transaction() as s:
        assert [m.seq for m in transcript(s, "busy")] == list(range(1, 9))


def test_record_feedback_creates_the_conversation(store: Store) -> None:
    with store.transaction() as s:
        feedback = record_feedback(s, "new", "pas-bestil", helpful=False, municipality="0101")
    assert feedback.id is not None and feedback.helpful is False
    with store.transaction() as s:
        assert s.get(Conversation, "new").municipality == "0101"


def test_a_read_does_not_queue_behind_a_writer_on_sqlite(store: Store) -> None:
    """Polls and login checks read in a deferred transaction: while a writer holds SQLite's
    write lock (e.g. a callback booking), they read the last committed state at once instead of
    waiting out busy_timeout (5 s) behind it."""
    with store.transaction() as s:
        ensure_conversation(s, "abc", "0101")
        append_message(s, "abc", "citizen", "hej")
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction() as s:
            append_message(s, "abc", "bot", "svar")
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(5)
        started = time.monotonic()
        with store.read() as s:
            seen = [m.text for m in transcript(s, "abc")]
        elapsed = time.monotonic() - started
    finally:
        done.set()
        thread.join()
    assert seen == ["hej"]  # the committed state, not the writer's pending message
    assert elapsed < 1.0, f"the read waited {elapsed:.1f} s for the writer"
    with store.read() as s:
        assert [m.text for m in transcript(s, "abc")] == ["hej", "svar"]


def test_migration_0004_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0003")
    engine = make_engine(url)
    try:
        assert "client_id" not in [c["name"] for c in inspect(engine).get_columns("messages")]
        # The partial unique index of open hand-offs survives (no table copy).
        with engine.connect() as conn:
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'uq_handoffs_open_conversation'"
            ).scalar()
        assert "WHERE" in sql
    finally:
        engine.dispose()
    upgrade(url)
    assert current_revision(url) == head_revision()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0005_keeps_logged_questions_both_ways(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'db.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_database")()
    )
    upgrade(url, "0004")
    engine = make_engine(url)

    def columns() -> list[str]:
        return [c["name"] for c in inspect(engine).get_columns("questions")]

    try:
        with engine.begin() as conn:  # a question logged before 0005, in 0004's columns
            conn.execute(text(
                "INSERT INTO conversations (id, municipality, state, created_at, updated_at) "
                "VALUES ('c', '0101', 'bot', '2026-11-24 10:00', '2026-11-24 10:00')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO questions (conversation_id, municipality, text, decision, guesses, "
                "created_at) VALUES ('c', '0101', 'hej', 'fallback', '[]', '2026-11-24 10:00')"
            ))  # fmt: skip
        assert "intent" not in columns()
        upgrade(url, "0005")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT text, intent FROM questions")).all() == [("hej", None)]
            conn.execute(text("UPDATE questions SET intent = 'out_of_scope'"))
        command.downgrade(alembic_config(url), "0004")
        assert "intent" not in columns()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT text FROM questions")).scalars().all() == ["hej"]
        upgrade(url)
        assert "intent" in columns()
    finally:
        engine.dispose()


def test_the_loser_of_a_creation_race_holds_the_lock_postgresql(pg_store: Store) -> None:
    """Two requests create the same conversation at once: PostgreSQL makes the second insert
    wait for the first and then refuses it; the second must then lock the row the first made,
    or its routing decision could interleave with a hand-off committing meanwhile."""
    first_in, second_has_it, done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with pg_store.transaction() as s:
            ensure_conversation(s, "ny", "0101", lock=True)
            first_in.set()
            time.sleep(0.5)  # the second's insert is waiting on this one meanwhile

    def second() -> None:
        first_in.wait(5)
        with pg_store.transaction() as s:
            ensure_conversation(s, "ny", "0101", lock=True)
            second_has_it.set()
            done.wait(10)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    try:
        assert second_has_it.wait(10)
        locked = text("SELECT id FROM conversations WHERE id = 'ny' FOR UPDATE NOWAIT")
        with (
            pg_store.engine.connect() as conn,
            pytest.raises(OperationalError, match="could not obtain lock"),
        ):
            conn.execute(locked)
    finally:
        done.set()
        for t in threads:
            t.join()
