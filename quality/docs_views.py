"""GX's Data Docs views, made readable offline (configured in quality/docs.py).

GX's pages load their styles, scripts and icons from public CDNs:

- The index (index_page.j2) puts its lists of validation results and suites into Bootstrap tables that jQuery
  and bootstrap-table build in the browser: without the network it shows no run at all. OfflineIndexPageView
  renders GX's page unchanged and adds the same links as plain HTML at the top of the body, hidden by a line of
  script when bootstrap-table has loaded.
- A validation result's page marks each check passed or failed with a Font Awesome icon only: offline, nothing
  says which checks failed. OfflineValidationPageView adds the words "passed" / "failed" after those icons
  (shown online too, beside the icon)."""

from __future__ import annotations

from html import escape

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

PLAIN_INDEX_ID = "quality-plain-index"


class OfflineIndexPageView(DefaultJinjaIndexPageView):
    def render(self, document, template=None, **kwargs):
        page = super().render(document, template=template, **kwargs)
        plain = plain_index(document.to_json_dict())
        return page.replace("<body>", "<body>\n" + plain, 1) if plain else page


STATUS_WORDS = """<style>
i.fas.fa-check-circle.text-success:not([aria-hidden])::after { content: " passed"; }
i.fas.fa-times.text-danger:not([aria-hidden])::after { content: " failed"; }
i.fas.text-success:not([aria-hidden])::after, i.fas.text-danger:not([aria-hidden])::after {
  font-family: sans-serif; font-weight: normal; font-style: normal; }
</style>
"""


class OfflineValidationPageView(DefaultJinjaPageView):
    def render(self, document, template=None, **kwargs):
        page = super().render(document, template=template, **kwargs)
        return page.replace("</head>", STATUS_WORDS + "</head>", 1)


def plain_index(document: dict) -> str:
    """The links of the index's Bootstrap tables (one per tab) as plain HTML, or "" when there are none."""
    parts = []
    for section in document.get("sections") or []:
        for block in section.get("content_blocks") or []:
            for tab in block.get("tabs") or []:
                content = tab.get("tab_content") or {}
                if content.get("content_block_type") == "bootstrap_table" and content.get("table_data"):
                    parts.append(_table(str(tab.get("tab_name") or ""), content["table_data"]))
    if not parts:
        return ""
    return (f'<div id="{PLAIN_INDEX_ID}" style="margin: 1em 2em">\n'
            "<p>Data Docs of the quality suites (expectations/README.md). This plain list is for reading them "
            "offline; online, the tables below replace it.</p>\n" + "\n".join(parts) + "\n</div>\n"
            "<script>if (window.jQuery && window.jQuery.fn && window.jQuery.fn.bootstrapTable) "
            f"{{ document.getElementById('{PLAIN_INDEX_ID}').style.display = 'none'; }}</script>\n")


def _table(title: str, rows: list[dict]) -> str:
    if any("_validation_success_text" in row for row in rows):
        head = ["Status", "Run time", "Run name", "Expectation suite", "Asset"]
        body = [[row.get("_validation_success_text"), _link(row, row.get("run_time")), row.get("run_name"),
                 row.get("_expectation_suite_name_sort"), row.get("asset_name")] for row in rows]
    else:
        head = ["Expectation suite"]
        names = [(_text(row.get("expectation_suite_name")) or _text(row.get("_expectation_suite_name_sort")), row)
                 for row in rows]
        body = [[_link(row, name)] for name, row in sorted(names, key=lambda pair: pair[0] or "")]
    cells = "\n".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in body)
    header = "<tr>" + "".join(f"<th>{escape(column)}</th>" for column in head) + "</tr>"
    return f"<h3>{escape(title)}</h3>\n<table border=\"1\" cellpadding=\"4\">\n{header}\n{cells}\n</table>"


class _Html(str):
    """Already escaped."""


def _link(row: dict, text) -> _Html:
    path = row.get("_table_row_link_path")
    label = escape("" if text is None else str(text))
    return _Html(f'<a href="{escape(path)}">{label}</a>' if path else label)  # GX has URL-encoded the path


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _cell(value) -> str:
    if isinstance(value, _Html):
        return value
    return escape("" if value is None else str(value))
