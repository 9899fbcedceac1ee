import os
from pathlib import Path

import pytest

from minshi_xls import data_path

NOTICE = data_path("lianyungang_2024.txt")


@pytest.fixture
def notice_path() -> Path:
    return NOTICE


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run in a fresh folder, as a clerk would (relative defaults like output/ resolve here)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skip is a failure: .ci/run installs LibreOffice, poppler and dovecot, so a test
    that skips there means an install step is missing, not that the feature is optional."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") == "true":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must have everything installed: {reason}"
