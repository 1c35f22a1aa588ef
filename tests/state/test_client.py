"""The Redis client (state.client): redis-py with hiredis, its C reader and writer of the protocol."""

from __future__ import annotations

from state.client import connect


def test_the_client_reads_and_writes_the_protocol_in_c() -> None:
    # hiredis is a dependency (pyproject.toml, requirements.lock): without it redis-py falls back to its
    # Python parser silently, and the story guess's reads of thousands of frequencies cost more.
    connection = connect("redis://127.0.0.1:1/0").connection_pool.make_connection()
    assert type(connection._parser).__name__ == "_HiredisParser"
    assert type(connection._command_packer).__name__ == "HiredisRespSerializer"
