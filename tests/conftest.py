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
