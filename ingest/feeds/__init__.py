"""One module per sector; importing this package registers every feed in FEEDS."""

from ingest.feeds import education, health, population  # noqa: F401
from ingest.spec import FEEDS

__all__ = ["FEEDS"]
