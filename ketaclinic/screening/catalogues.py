"""The two lists: ICD-10-CM codes (from their package) and medications (shipped as data).

The searchable ICD-10-CM list: chapter F (F01-F99) and the R45.8x emotional-state codes (R45.851 suicidal
ideations among them), from the `simple-icd-10-cm` package, which ships the CDC/NCHS **April 2026 release of
ICD-10-CM** (package 1.5.0; see its README). Built once per process (module-level cache): searching is a scan
of about 900 rows in memory, read from a cache in the environment (`cache_path`), since the package takes
seconds to parse. No Django here.
"""

import contextlib
import functools
import importlib.metadata
import json
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from ketaclinic.screening.rules import MEDICATION_CLASSES

RELEASE = "ICD-10-CM April 2026 release (CDC/NCHS), via simple-icd-10-cm 1.5.0"
# simple-icd-10-cm names chapters by number: chapter 5 is F01-F99.
_CHAPTER_F = "5"
_EMOTIONAL_STATE = "R45.8"


@dataclass(frozen=True)
class Icd10Code:
    code: str
    description: str
    billable: bool


def cache_path() -> Path:
    """Where the list is kept once read from the package: in the environment the package is installed in
    (`<sys.prefix>/share/ketaclinic/`), named by the package's version, so an upgrade reads it afresh. The
    list is the package's data: it is never copied into the repository."""
    version = importlib.metadata.version("simple-icd-10-cm")
    return Path(sys.prefix) / "share" / "ketaclinic" / f"icd10cm-{version}.json"


@functools.cache
def all_codes() -> dict[str, Icd10Code]:
    """Every code of the list, billable or not, by dotted code. Read from the environment's cache (`make
    install` writes it: `python -m ketaclinic.screening.catalogues`); without one, or with one that does not
    read, from the package, and the cache is written for the next process where the environment allows."""
    path = cache_path()
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["codes"]
        return {row["code"]: Icd10Code(**row) for row in rows}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    codes = codes_from_package()
    with contextlib.suppress(OSError):  # a read-only environment parses the package in each process
        write_cache(codes, path)
    return codes


def codes_from_package() -> dict[str, Icd10Code]:
    """The list as the package gives it. Parsing it costs about 3.7 CPU-seconds (the package reads the whole
    ICD-10-CM at import; the demo's first diagnosis paid it in every `make run`), hence the cache."""
    with warnings.catch_warnings():
        # simple-icd-10-cm 1.5.0 reads its data files with importlib.resources' legacy read_text at import,
        # which Python 3.12 deprecates; the data it reads is the same either way.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm  # type: ignore[import-untyped]

    found: dict[str, Icd10Code] = {}
    candidates = [*cm.get_descendants(_CHAPTER_F), _EMOTIONAL_STATE, *cm.get_descendants(_EMOTIONAL_STATE)]
    for code in candidates:
        if "-" in code:  # blocks such as F30-F39 are headings, not codes
            continue
        found[code] = Icd10Code(code=code, description=cm.get_description(code), billable=cm.is_leaf(code))
    return dict(sorted(found.items()))


def write_cache(codes: dict[str, Icd10Code], path: Path) -> None:
    """Write the list to `path` whole or not at all (another process may read or write it meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"release": RELEASE, "codes": [vars(code) for code in codes.values()]}
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as handle:
        json.dump(document, handle, ensure_ascii=False)
    os.chmod(handle.name, 0o644)  # readable by whoever runs the server, as the package's own files are
    os.replace(handle.name, path)


def normalise(code: str) -> str:
    """'f422' and ' F42.2 ' -> 'F42.2'."""
    text = re.sub(r"\s+", "", code).upper()
    if len(text) > 3 and "." not in text:
        text = text[:3] + "." + text[3:]
    return text


def lookup(code: str) -> Icd10Code | None:
    return all_codes().get(normalise(code))


def billable_under(code: str, *, limit: int = 3) -> list[Icd10Code]:
    """The first billable codes under a category heading (for the message that refuses the heading)."""
    prefix = normalise(code)
    return [item for item in all_codes().values() if item.billable and item.code.startswith(prefix)][:limit]


def search(query: str, *, limit: int = 20) -> list[Icd10Code]:
    """Billable codes whose code starts with `query`, or whose description contains every word of it."""
    text = query.strip()
    if not text:
        return []
    prefix = normalise(text)
    words = text.casefold().split()
    results = []
    for item in all_codes().values():
        if not item.billable:
            continue
        if item.code.startswith(prefix) or all(word in item.description.casefold() for word in words):
            results.append(item)
            if len(results) == limit:
                break
    return results


MEDICATIONS_PATH = Path(__file__).resolve().parent / "data" / "medications.json"


@dataclass(frozen=True)
class CatalogueMedication:
    key: str
    generic_name: str
    brand_names: tuple[str, ...]
    classes: tuple[str, ...]
    psychotropic: bool
    rxnorm_style_name: str

    @property
    def label(self) -> str:
        brands = f" ({', '.join(self.brand_names)})" if self.brand_names else ""
        return f"{self.generic_name}{brands}"

    @property
    def class_labels(self) -> list[str]:
        return [MEDICATION_CLASSES[name] for name in self.classes]


@functools.cache
def medications() -> dict[str, CatalogueMedication]:
    """The medication list by key; ValueError at load if a class is not one the rules know."""
    document = json.loads(MEDICATIONS_PATH.read_text(encoding="utf-8"))
    found: dict[str, CatalogueMedication] = {}
    for entry in document["medications"]:
        unknown = [name for name in entry["classes"] if name not in MEDICATION_CLASSES]
        if unknown:
            raise ValueError(f"medications.json: {entry['key']} has unknown classes {unknown}")
        found[entry["key"]] = CatalogueMedication(
            key=entry["key"],
            generic_name=entry["generic_name"],
            brand_names=tuple(entry["brand_names"]),
            classes=tuple(entry["classes"]),
            psychotropic=entry["psychotropic"],
            rxnorm_style_name=entry["rxnorm_style_name"],
        )
    return found


def search_medications(query: str, *, limit: int = 20) -> list[CatalogueMedication]:
    """Medications whose generic or brand name starts with (or contains) what was typed; prefix hits first."""
    text = query.strip().casefold()
    if not text:
        return []
    starts, contains = [], []
    for item in medications().values():
        names = [item.generic_name.casefold(), *(brand.casefold() for brand in item.brand_names)]
        if any(name.startswith(text) for name in names):
            starts.append(item)
        elif any(text in name for name in names):
            contains.append(item)
    return (
        sorted(starts, key=lambda item: item.generic_name)[:limit] + contains[: max(0, limit - len(starts))]
    )


def medication_by_name(name: str) -> CatalogueMedication | None:
    """The catalogue entry whose generic name or brand name is exactly `name` (any case)."""
    text = name.strip().casefold()
    for item in medications().values():
        if text == item.generic_name.casefold() or text in (brand.casefold() for brand in item.brand_names):
            return item
    return None


if __name__ == "__main__":
    write_cache(codes_from_package(), cache_path())
