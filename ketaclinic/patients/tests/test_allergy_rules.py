"""Pure allergy rules (PROTOCOL.md §C5): not asked ≠ no known allergies ≠ allergies listed."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.patients.rules import (
    AllergyEntryFacts,
    AllergyEntryKind,
    AllergyState,
    active_entries,
    allergies_to,
    allergy_status,
)

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def allergy(entry_id: int, code: str, substance: str = "", minutes: int = 0) -> AllergyEntryFacts:
    return AllergyEntryFacts(
        entry_id=entry_id,
        kind=AllergyEntryKind.ALLERGY,
        recorded_at=T0 + dt.timedelta(minutes=minutes),
        substance_code=code,
        substance=substance or code.title(),
    )


def no_known(entry_id: int, minutes: int = 0) -> AllergyEntryFacts:
    return AllergyEntryFacts(
        entry_id=entry_id,
        kind=AllergyEntryKind.NO_KNOWN_ALLERGIES,
        recorded_at=T0 + dt.timedelta(minutes=minutes),
    )


def retirement(entry_id: int, retires: int, minutes: int = 0) -> AllergyEntryFacts:
    return AllergyEntryFacts(
        entry_id=entry_id,
        kind=AllergyEntryKind.RETIREMENT,
        recorded_at=T0 + dt.timedelta(minutes=minutes),
        retires_id=retires,
    )


def test_nothing_recorded_is_not_asked() -> None:
    status = allergy_status([])
    assert (status.state, status.active_allergies, status.no_known_allergies) == (
        AllergyState.NOT_ASKED,
        (),
        None,
    )


def test_no_known_allergies_asserted_is_its_own_state() -> None:
    status = allergy_status([no_known(1)])
    assert status.state is AllergyState.NO_KNOWN_ALLERGIES
    assert status.no_known_allergies == no_known(1)


def test_an_allergy_retires_an_earlier_no_known_allergies_assertion() -> None:
    entries = [no_known(1), allergy(2, "ondansetron", minutes=5)]
    status = allergy_status(entries)
    assert status.state is AllergyState.ALLERGIES_LISTED
    assert [entry.entry_id for entry in status.active_allergies] == [2]
    assert status.no_known_allergies is None
    assert [entry.entry_id for entry in active_entries(entries)] == [2]


def test_retiring_every_allergy_leaves_no_current_statement() -> None:
    status = allergy_status([allergy(1, "latex"), retirement(2, retires=1, minutes=1)])
    assert status.state is AllergyState.NOT_ASKED


def test_no_known_allergies_after_retired_allergies_is_current() -> None:
    entries = [allergy(1, "latex"), retirement(2, retires=1, minutes=1), no_known(3, minutes=2)]
    assert allergy_status(entries).state is AllergyState.NO_KNOWN_ALLERGIES


def test_catalogue_substance_matches_the_drugs_it_rules_out() -> None:
    listed = [
        allergy(1, "benzodiazepines"),
        allergy(2, "setrons"),
        allergy(3, "esketamine"),
        allergy(4, "latex"),
    ]
    assert [entry.entry_id for entry in allergies_to("midazolam", listed)] == [1]
    assert [entry.entry_id for entry in allergies_to("ondansetron", listed)] == [2]
    assert [entry.entry_id for entry in allergies_to("ketamine", listed)] == [3]
    assert allergies_to("labetalol", listed) == []


def test_typed_substance_matches_a_drug_named_as_a_word() -> None:
    listed = [allergy(1, "other", "Zofran / ONDANSETRON tablets"), allergy(2, "other", "Ondansetronic acid")]
    assert [entry.entry_id for entry in allergies_to("ondansetron", listed)] == [1]


ENTRY = st.builds(
    lambda kind, code, minute, retires: (kind, code, minute, retires),
    st.sampled_from(list(AllergyEntryKind)),
    st.sampled_from(["ketamine", "midazolam", "latex", "other"]),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=1, max_value=12),
)


@given(st.lists(ENTRY, max_size=12))
def test_state_follows_the_unretired_entries(raw) -> None:
    entries = []
    for index, (kind, code, minute, retires) in enumerate(raw, start=1):
        if kind is AllergyEntryKind.ALLERGY:
            entries.append(allergy(index, code, minutes=minute))
        elif kind is AllergyEntryKind.NO_KNOWN_ALLERGIES:
            entries.append(no_known(index, minutes=minute))
        else:
            entries.append(retirement(index, retires=retires, minutes=minute))
    retired = {entry.retires_id for entry in entries if entry.kind is AllergyEntryKind.RETIREMENT}
    open_allergies = [e for e in entries if e.kind is AllergyEntryKind.ALLERGY and e.entry_id not in retired]
    open_assertions = [
        e for e in entries if e.kind is AllergyEntryKind.NO_KNOWN_ALLERGIES and e.entry_id not in retired
    ]
    status = allergy_status(entries)
    if open_allergies:
        assert status.state is AllergyState.ALLERGIES_LISTED
        assert {e.entry_id for e in status.active_allergies} == {e.entry_id for e in open_allergies}
    elif open_assertions:
        assert status.state is AllergyState.NO_KNOWN_ALLERGIES
    else:
        assert status.state is AllergyState.NOT_ASKED
    # Never both: an allergy listed and a "no known allergies" assertion current.
    assert not (status.active_allergies and status.no_known_allergies)
