"""One module per sector or register; importing this package registers every feed in FEEDS, in load order: a
feed whose rules read another feed's rows (FeedSpec.after) comes after it."""

from ingest.feeds import child_affairs, education, growth, health, immunisation, population  # noqa: F401, I001
from ingest.feeds import aggregate_reports  # noqa: F401, I001  (after population: its rules read dan_so)
from ingest.spec import FEEDS

__all__ = ["FEEDS"]
