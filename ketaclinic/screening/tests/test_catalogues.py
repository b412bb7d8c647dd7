"""The ICD-10-CM list shipped as data is the package's list."""

import json

from ketaclinic.screening import catalogues


def test_the_shipped_icd10_list_is_the_packages_list() -> None:
    shipped = catalogues.all_codes()
    assert shipped == catalogues.codes_from_package()
    assert len(shipped) > 800
    assert shipped["R45.851"].billable


def test_the_shipped_icd10_list_names_the_release_it_was_written_from() -> None:
    document = json.loads(catalogues.ICD10_PATH.read_text(encoding="utf-8"))
    assert document["release"] == catalogues.RELEASE
