"""Pinned versions: one catalog, nothing floats, and the README's table is the catalog's."""

from __future__ import annotations

import re

from components import catalog
from infra import paths
from infra.kfvs.versions import BEGIN, END, versions_table


def test_readme_table_is_generated_from_the_catalog() -> None:
    readme = (paths.PROJECT_ROOT / "README.md").read_text()
    embedded = readme.split(BEGIN, 1)[1].split(END, 1)[0].lstrip("\n")
    assert embedded == versions_table()


def test_no_chart_floats() -> None:
    for chart in catalog.CHARTS:
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", chart.version), chart
        assert chart.repository.startswith(("https://", "oci://")), chart
