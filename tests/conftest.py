"""Shared fixtures: every database test gets its own fresh database on a real PostgreSQL server
(the project's embedded server, or the server of WAREHOUSE_URL when that is set)."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest


def _with_database(url: str, database: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + database))


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the test server's maintenance database."""
    url = os.environ.get("WAREHOUSE_URL")
    if not url:
        from warehouse import embedded

        url = embedded.ensure_running().url()
    return _with_database(url, "postgres")


@pytest.fixture
def fresh_warehouse(server_url, monkeypatch, tmp_path_factory) -> str:
    """A new, bootstrapped, empty warehouse database; WAREHOUSE_URL points at it for the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = _with_database(server_url, name)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("GX_DATA_DOCS_DIR", str(tmp_path_factory.mktemp("gx-data-docs")))  # not the project's
    from ingest.schema import setup_warehouse as bootstrap

    bootstrap()
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
