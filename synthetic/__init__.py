"""Generators of realistic synthetic landing feeds (see /work/shared/domain/sources.md and README.md here).

A development tool of the repository, not part of the installed product. One entry point per feed:
``generate_health_feeds`` (births ``y_te_sinh`` and child deaths ``y_te_tu_vong``), ``generate_population_feed``
(``dan_so``), ``generate_education_feed`` (``giao_duc_hoc_sinh``), ``generate_immunisation_feed``
(``y_te_tiem_chung``), ``generate_growth_feed`` (``y_te_can_do``), ``generate_child_register_feed``
(``ldxh_tre_em``), ``generate_abuse_cases_feed`` (``ldxh_xam_hai``) and ``generate_aggregate_reports_feed``
(``bao_cao_tong_hop``, the communes' filled aggregate-report workbooks); every feed at once:
``synthetic.sample.generate_all`` or ``python -m synthetic all --landing DIR --scale S``.
"""

from synthetic.abuse import generate_abuse_cases_feed
from synthetic.aggregate_reports import generate_aggregate_reports_feed
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
    "generate_aggregate_reports_feed",
    "generate_child_register_feed",
    "generate_education_feed",
    "generate_growth_feed",
    "generate_health_feeds",
    "generate_immunisation_feed",
    "generate_population_feed",
    "write_births_csv",
]
