"""The outputs people read: report workbooks, tidy CSV, SDMX and an HTML report of a published period
(`make report PERIOD=2025-H1`, `python -m report`)."""
