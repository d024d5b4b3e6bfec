"""One module per sector or register; importing this package registers every feed in FEEDS."""

from ingest.feeds import child_affairs, education, growth, health, immunisation, population  # noqa: F401
from ingest.spec import FEEDS

__all__ = ["FEEDS"]
