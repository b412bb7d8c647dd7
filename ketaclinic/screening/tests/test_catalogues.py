"""The ICD-10-CM list is the package's list, whether read from the environment's cache or the package."""

import importlib.metadata
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketaclinic.screening import catalogues


@pytest.fixture
def cache_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "share" / "icd10cm-test.json"
    monkeypatch.setattr(catalogues, "cache_path", lambda: path)
    catalogues.all_codes.cache_clear()
    yield path
    catalogues.all_codes.cache_clear()


def test_the_list_read_without_a_cache_writes_one_the_next_process_reads_the_same(cache_in: Path) -> None:
    package = catalogues.codes_from_package()
    assert catalogues.all_codes() == package
    assert len(package) > 800
    assert package["R45.851"].billable
    document = json.loads(cache_in.read_text(encoding="utf-8"))
    assert document["release"] == catalogues.RELEASE

    catalogues.all_codes.cache_clear()  # a new process
    assert catalogues.all_codes() == package


def test_a_cache_that_does_not_read_is_replaced_from_the_package(cache_in: Path) -> None:
    cache_in.parent.mkdir(parents=True)
    cache_in.write_text('{"codes": [{"code": "F32.A"', encoding="utf-8")  # cut short
    assert catalogues.all_codes() == catalogues.codes_from_package()
    assert json.loads(cache_in.read_text(encoding="utf-8"))["codes"][0]["code"] == "F01"


def test_the_environments_cache_is_named_by_the_packages_version() -> None:
    version = importlib.metadata.version("simple-icd-10-cm")
    assert catalogues.cache_path() == Path(sys.prefix) / "share" / "ketaclinic" / f"icd10cm-{version}.json"
