"""/metrics in multiprocess mode (app/metrics.py): a metrics file that another process is creating at this
instant (still empty) is skipped, not a failed scrape; every complete file is still added up."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from app import metrics

RECORD = """
from prometheus_client import Counter
Counter("solvequeue_test_things", "things", ["kind"]).labels(kind="a").inc(3)
"""


@pytest.fixture
def files(tmp_path, monkeypatch):
    """A multiprocess directory with one complete counter file (written by another process) and one
    empty file, as a process leaves it between creating and sizing it."""
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": ""}
    subprocess.run([sys.executable, "-c", RECORD], env=env, check=True)
    (tmp_path / "counter_999999.db").write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def test_the_library_collector_fails_on_an_empty_file(files):
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(files))
    with pytest.raises(struct.error):
        generate_latest(registry)


def test_a_scrape_skips_an_empty_file_and_adds_up_the_others(files):
    text = generate_latest(metrics.process_registry()).decode()
    assert 'solvequeue_test_things_total{kind="a"} 3.0' in text
