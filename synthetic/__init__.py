"""Generators of realistic synthetic landing feeds (see /work/shared/domain/sources.md).

Health feeds: ``generate_health_feeds(landing_dir, ...)`` writes ``y_te_sinh`` (births) and
``y_te_tu_vong`` (child deaths) files plus ``_manifest.json``; ``write_births_csv`` streams one large
births file for benchmarks. Command line: ``python -m synthetic health --landing DIR``.

Immunisation doses (``y_te_tiem_chung``, the same children as the births feed) and growth monitoring
(``y_te_can_do``): ``generate_immunisation_feed`` and ``generate_growth_feed``. Child affairs (JSON lines):
``generate_child_register_feed`` (``ldxh_tre_em`` snapshots) and ``generate_abuse_cases_feed`` (``ldxh_xam_hai``).
"""

from synthetic.abuse import generate_abuse_cases_feed
from synthetic.dan_so import generate_population_feed
from synthetic.education import EDUCATION_FEED, generate_education_feed
from synthetic.feeds import DEFAULT_PERIODS, HEALTH_FEEDS, generate_health_feeds, write_births_csv
from synthetic.formats import Delivery
from synthetic.growth import generate_growth_feed
from synthetic.immunisation import generate_immunisation_feed
from synthetic.manifest import MANIFEST_NAME, FileEntry, Manifest
from synthetic.register import generate_child_register_feed

__all__ = [
    "DEFAULT_PERIODS",
    "EDUCATION_FEED",
    "HEALTH_FEEDS",
    "MANIFEST_NAME",
    "Delivery",
    "FileEntry",
    "Manifest",
    "generate_abuse_cases_feed",
    "generate_child_register_feed",
    "generate_education_feed",
    "generate_growth_feed",
    "generate_health_feeds",
    "generate_immunisation_feed",
    "generate_population_feed",
    "write_births_csv",
]
