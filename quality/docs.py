"""Great Expectations Data Docs of the quality suites: the static HTML site GX builds from its validation results
(an index of the suites and of the validation runs, a page per suite and per validation result).

Where: `.warehouse/gx-data-docs/` in the project (never committed), or the folder `GX_DATA_DOCS_DIR` names:

    local_site/index.html   the site (GX's default site name); data_docs_index() gives this path once built
    validations/            GX's ValidationResultsStore: one JSON file per suite run, what the site is built from

`run_suites` runs each suite through a GX Checkpoint and builds the site once at its end, for the validation
results of that call (build_data_docs). A run's context is ephemeral except for these two filesystem stores,
which persist across runs. The validation results must persist too: when GX rebuilds the index it drops every
page whose validation result is no longer in its store, so an in-memory store would leave only the last call's
results. The store keeps the newest KEEP_PER_SUITE results of each suite; older ones are removed and their
pages drop out at the next build.

The results hold counts and observed values, no rows (result format SUMMARY without examples): the failing rows
of a run are in audit.quality_results, behind the warehouse's roles, not in static files.

Offline: GX's pages load Bootstrap, jQuery and Font Awesome from public CDNs. Without them the suite and
validation pages are readable but unstyled. Two things would be lost, and quality/docs_views.py puts them back
as plain HTML: the index's lists (tables that those scripts build) and which checks of a validation result
passed or failed (icons only). Building the site never uses the network."""

from __future__ import annotations

import logging
import os
import tempfile
from collections import defaultdict
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = PROJECT_ROOT / ".warehouse" / "gx-data-docs"
SITE_NAME = "local_site"
VALIDATIONS = "validations"
# Validation results (and pages) kept per suite: with two gate runs a night, about two weeks of nights.
# The index build reads every kept result (~10 ms each), so this bounds the cost of a build too.
KEEP_PER_SUITE = 20

logger = logging.getLogger(__name__)


def data_docs_dir() -> Path:
    """The folder of the Data Docs site and of the validation results it is built from."""
    configured = os.environ.get("GX_DATA_DOCS_DIR")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_DIR


def data_docs_index(docs_dir: Path | None = None) -> Path | None:
    """The Data Docs' index.html if a run of the quality suites has built it, else None."""
    index = (docs_dir or data_docs_dir()) / SITE_NAME / "index.html"
    return index if index.is_file() else None


def writable_docs_dir() -> Path | None:
    """data_docs_dir(), created, if this process can write there; None otherwise (e.g. the read-only project
    of the Airflow image without GX_DATA_DOCS_DIR): the suites then run without Data Docs."""
    docs_dir = data_docs_dir()
    try:
        docs_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=docs_dir):
            pass
    except OSError as exc:
        logger.warning("no Great Expectations Data Docs this run: cannot write to %s (%s); "
                       "set GX_DATA_DOCS_DIR to a writable folder", docs_dir, exc)
        return None
    return docs_dir


def project_config(docs_dir: Path | None):
    """The GX context's configuration: in-memory stores (suites, validation definitions, checkpoints are rebuilt
    from expectations/*.yml at each run) except, with a `docs_dir`, a filesystem ValidationResultsStore and a
    filesystem Data Docs site under it."""
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)  # no site, in-memory stores
    if docs_dir is None:
        return DataContextConfig(store_backend_defaults=defaults, analytics_enabled=False)
    stores = dict(defaults.stores)
    stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(docs_dir / VALIDATIONS)},
    }
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,  # links to GX's tutorials
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(docs_dir / SITE_NAME)},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": "quality.docs_views", "class_name": "OfflineIndexPageView"},
        },
        "site_section_builders": {
            "validations": {"view": {"module_name": "quality.docs_views",
                                     "class_name": "OfflineValidationPageView"}},
            "profiling": "None",  # no profiler runs here
        },
    }
    return DataContextConfig(store_backend_defaults=defaults, stores=stores, analytics_enabled=False,
                             data_docs_sites={SITE_NAME: site})


def build_data_docs(context, docs_dir: Path, validation_results: list) -> Path | None:
    """Update the site under `docs_dir` after a run_suites call: prune the store, then one GX build of the pages
    of this call's validation results (the ValidationResultIdentifiers of its checkpoint runs) and of their
    suites, and of the index over every kept result. This is what UpdateDataDocsAction does, but once
    for all the suites of the call instead of once per validation result (each build recompiles GX's templates
    and re-reads every result the index lists). Returns the index, or None when the site could not be built:
    the Data Docs never fail the quality gate."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from quality.suites import SuiteError, load_suite, suite_names

    if SITE_NAME not in (context.variables.data_docs_sites or {}):
        return None
    try:
        prune_validation_results(context)
        # Every suite in the store, not only this call's: the index drops the pages of the suites it lacks.
        known = {suite.name for suite in context.suites.all()}
        for name in suite_names():
            if name not in known:
                try:
                    context.suites.add(load_suite(name).to_gx())
                except SuiteError as exc:
                    logger.warning("Data Docs: suite %s left out: %s", name, exc)
        validated = dict.fromkeys(key.expectation_suite_identifier.name for key in validation_results)
        identifiers = [*validation_results, *(ExpectationSuiteIdentifier(name=name) for name in validated)]
        context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=identifiers)
        for folder in (docs_dir / VALIDATIONS, docs_dir / SITE_NAME / "validations"):
            _remove_empty_folders(folder)  # GX leaves the folders of removed results and pages behind
    except Exception as exc:  # noqa: BLE001 - documentation only: it must not fail the quality gate
        logger.warning("Great Expectations Data Docs not updated: %s: %s", type(exc).__name__, exc)
        return None
    return data_docs_index(docs_dir)


def prune_validation_results(context, keep: int | None = None) -> int:
    """Remove all but the newest `keep` (KEEP_PER_SUITE) validation results of each suite from the
    ValidationResultsStore (the next index build drops their pages). Returns how many were removed."""
    keep = KEEP_PER_SUITE if keep is None else keep
    store = context.validation_results_store
    by_suite = defaultdict(list)
    for key in store.list_keys():
        by_suite[key.expectation_suite_identifier.name].append(key)
    removed = 0
    for keys in by_suite.values():
        keys.sort(key=lambda key: key.run_id.run_time, reverse=True)
        for key in keys[keep:]:
            store.remove_key(key)
            removed += 1
    return removed


def _remove_empty_folders(root: Path) -> None:
    for folder, _, _ in os.walk(root, topdown=False):  # deepest first: a parent is empty once its children go
        if Path(folder) != root and not any(Path(folder).iterdir()):
            os.rmdir(folder)
