"""Where the warehouse is, and as whom to connect.

`owner_url()` is the owner's (superuser's) URL: `WAREHOUSE_URL` if set, otherwise the project's embedded
PostgreSQL. Only the bootstrap (warehouse.schema) and starting the embedded server use it.

`warehouse_url()` and `connect()` connect as the *acting role* when one is set — `acting_as("transformer")`
around a step (pipeline.steps), or `WAREHOUSE_ROLE=<role>` for a whole process — and as the owner otherwise.
So the loads run as `loader`, and dbt, the quality checks and publishing as `transformer`, while the code
that connects (ingest, quality, publish) only ever calls `connect()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlparse, urlunparse

import psycopg

_ACTING_ROLE: ContextVar[str | None] = ContextVar("warehouse_acting_role", default=None)
OWNER = "owner"


def owner_url() -> str:
    url = os.environ.get("WAREHOUSE_URL")
    if url:
        return url
    from warehouse import embedded

    return embedded.ensure_running().url()


def acting_role() -> str | None:
    """The role connections are made as (None: the owner)."""
    role = _ACTING_ROLE.get() or os.environ.get("WAREHOUSE_ROLE") or None
    return None if role == OWNER else role


@contextmanager
def acting_as(role: str | None) -> Iterator[None]:
    """Connect as `role` (one of warehouse.roles.ROLES; None or "owner": the owner) inside the block, in this
    thread/task only."""
    if role not in (None, OWNER):
        from warehouse.roles import _check

        _check(role)
    token = _ACTING_ROLE.set(role or OWNER)
    try:
        yield
    finally:
        _ACTING_ROLE.reset(token)


def warehouse_url() -> str:
    """The URL to connect with: as the acting role, or the owner."""
    role = acting_role()
    if role is None:
        return owner_url()
    from warehouse.roles import role_url

    return role_url(role, owner_url())


def masked(url: str) -> str:
    """The URL with its password replaced by ***: safe to print or log."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    userinfo, _, host = parsed.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunparse(parsed._replace(netloc=f"{user}:***@{host}"))


def sqlalchemy_url(url: str | None = None) -> str:
    """The same database as an SQLAlchemy URL for the psycopg 3 driver (used by Great Expectations)."""
    url = url or warehouse_url()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)
