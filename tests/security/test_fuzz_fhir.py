"""Fuzzing `/fhir/`: every search parameter each type supports (`params.SUPPORTED`, with `_count` and
`_offset`), resource ids of reads and `$everything`, with hostile values built by hypothesis (digits that are
not ASCII, such as `²` or `١٢`, numbers of thousands of digits, NUL and other control characters, long
strings, references and dates around them). Whatever the value, the answer is never a 5xx; a refusal is a 4xx
OperationOutcome in `application/fhir+json`, and an answer is a Bundle or the resource asked for.

Bounded and repeatable: derandomized, a fixed number of examples per test. docs/security.md records the
counts and what the fuzzing found."""

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.interop.fhir.params import PAGING, SUPPORTED
from tests.security.conftest import Demo

# Accounts reading FHIR: the integration account (every type but AuditEvent) and the clinic admin.
READERS = ["fhir-client", "admin"]
EXAMPLES = 120

HOSTILE = [
    "²",
    "³1",
    "\u0661\u0662",  # Arabic-Indic twelve
    "\U0001d7d7",  # mathematical bold digit nine
    "Ⅻ",
    "½",
    "9" * 5000,
    "9" * 25,
    str(2**63),
    str(2**63 - 1),
    "-1",
    "0",
    "1e9",
    "1.5",
    " 1",
    "\x00",
    "1\x00",
    "\x1b[31m",
    "\ud800",
    "a" * 10000,
    "Patient/²",
    "Patient/" + "9" * 5000,
    "Patient/-1",
    "Patient/1/_history/1",
    "http://example.org|" + "x" * 2000,
    "|",
    "||",
    ",",
    ",,1,",
    "ge",
    "ge²⁰²⁴",
    "ge\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661",  # Arabic-Indic digits
    "ge9999-99-99",
    "eq0000-01-01",
    "2024-02-30",
    "2024-01-01T25:61:61Z",
    "2024-01-01T10:00:00+99:99",
    "lt" + "9" * 4000,
    "infusion-²",
    "drug-" + "9" * 5000,
    "reading-²-bp",
    "vitals-99999999999999999999999-bp",
    "'; DROP TABLE patients_patient; --",
    "<script>alert(1)</script>",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
]

# Hostile values and hypothesis's own: text of any code point, numbers far past 64 bits, digits of any script.
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=8),
    st.tuples(
        st.sampled_from(["Patient/", "ge", "le", "infusion-", "drug-", "reading-", "vitals-"]), st.text()
    ).map("".join),
)
searches = st.sampled_from(sorted(SUPPORTED)).flatmap(
    lambda resource_type: st.tuples(
        st.just(resource_type),
        st.dictionaries(
            st.sampled_from(sorted([*SUPPORTED[resource_type], *PAGING])), values, min_size=1, max_size=3
        ),
    )
)
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, response.content[:500]
    content_type = response["Content-Type"]
    assert content_type.startswith("application/fhir+json"), (response.status_code, response.content[:500])
    body: dict[str, Any] = json.loads(response.content)
    if response.status_code >= 400:
        assert body["resourceType"] == "OperationOutcome", body
        assert body["issue"][0]["severity"] == "error"
    return body


def _quoted(value: str) -> str:
    """Percent-encoded UTF-8; a lone surrogate goes as the bytes it would be (ED A0 80), as clients may."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _get(client: Any, path: str, token: str) -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("username", READERS)
def test_hostile_search_values_never_answer_5xx(demo: Demo, db: None, client: Any, username: str) -> None:
    token = demo.tokens[username]

    @FUZZ
    @given(search=searches)
    def search(search: tuple[str, dict[str, str]]) -> None:
        resource_type, query = search
        text = "&".join(f"{quote(name)}={_quoted(value)}" for name, value in query.items())
        body = _check(_get(client, f"/fhir/{resource_type}?{text}", token))
        if body["resourceType"] != "OperationOutcome":
            assert body["resourceType"] == "Bundle"

    search()


@pytest.mark.parametrize("username", READERS)
def test_hostile_ids_never_answer_5xx(demo: Demo, db: None, client: Any, username: str) -> None:
    token = demo.tokens[username]

    @FUZZ
    @given(resource_type=st.sampled_from(sorted(SUPPORTED)), resource_id=values, paging=values)
    def read(resource_type: str, resource_id: str, paging: str) -> None:
        quoted = _quoted(resource_id)
        if not quoted or quoted in {".", ".."}:
            return
        body = _check(_get(client, f"/fhir/{resource_type}/{quoted}", token))
        if body["resourceType"] != "OperationOutcome":
            assert body["resourceType"] == resource_type
        _check(_get(client, f"/fhir/Patient/1/$everything?_count={_quoted(paging)}", token))

    read()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/fhir/Patient?_count=%C2%B2", 400),  # "²": isdigit() is true, int() refuses it
        ("/fhir/Patient?_offset=" + "9" * 5000, 400),
        ("/fhir/Encounter?patient=Patient/%C2%B2", 200),  # no such patient: an empty Bundle
        ("/fhir/Encounter?patient=" + "9" * 30, 200),
        ("/fhir/Patient?_id=" + "9" * 30, 200),
        ("/fhir/MedicationAdministration/infusion-%C2%B2", 404),
        ("/fhir/MedicationAdministration/drug-" + "9" * 5000, 404),
        ("/fhir/Practitioner/" + "9" * 30, 404),
        ("/fhir/Patient/" + "9" * 30 + "/$everything", 404),
        ("/fhir/Appointment?date=ge9999-12-31", 400),
        ("/fhir/Appointment?date=9999", 400),
        ("/fhir/Patient?name=%00", 400),  # refused by the input filter, as an OperationOutcome
        ("/fhir/Patient/1%2F2", 404),  # names no route
    ],
)
def test_values_that_once_answered_5xx_or_html(
    demo: Demo, db: None, client: Any, path: str, status: int
) -> None:
    response = _get(client, path, demo.tokens["fhir-client"])
    body = _check(response)
    assert response.status_code == status
    assert body["resourceType"] == ("OperationOutcome" if status >= 400 else "Bundle")
