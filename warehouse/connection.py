"""Where the warehouse is: `WAREHOUSE_URL` if set, otherwise the project's embedded PostgreSQL."""

from __future__ import annotations

import os

import psycopg


def warehouse_url() -> str:
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        return url
    from warehouse import embedded

    return embedded.ensure_running().url()


def sqlalchemy_url(url: str | None = None) -> str:
    """The same database as an SQLAlchemy URL for the psycopg 3 driver (used by Great Expectations)."""
    url = url or warehouse_url()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)
