"""Pure ledger rules: quantities, vial dating, reconciliation and the hash chain. No database."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.inventory import rules
from ketaclinic.inventory.rules import ChainProblem, EntryKind

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
KEY = b"rules-test-chain-key-0123456789abcdef"
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3)


def test_volume_for_a_dose_follows_the_vial_strength() -> None:
    assert rules.ml_for_mg(Decimal(40), Decimal(50)) == Decimal("0.800")
    assert rules.ml_for_mg(Decimal(35), Decimal(100)) == Decimal("0.350")
    assert rules.ml_for_mg(Decimal(1), Decimal(3)) == Decimal("0.333")


def test_milligrams_in_a_volume() -> None:
    assert rules.mg_for_ml(Decimal("0.8"), Decimal(50)) == Decimal("40.000")


def test_zero_concentration_is_refused() -> None:
    with pytest.raises(ValueError):
        rules.ml_for_mg(Decimal(1), Decimal(0))


def test_quantity_never_gives_a_negative_zero() -> None:
    assert str(rules.quantity(Decimal("-0.0001"))) == "0.000"
    assert str(-rules.ZERO + rules.ZERO) == "0.000"
    assert str(rules.quantity(-Decimal("0.000"))) == "0.000"


def test_balance_cannot_go_below_zero() -> None:
    assert rules.balance_after(Decimal("10.000"), Decimal("-10.000")) == Decimal("0.000")
    with pytest.raises(rules.NegativeBalance):
        rules.balance_after(Decimal("10.000"), Decimal("-10.001"))


@given(balance=amounts, change=amounts)
def test_balance_after_a_draw_is_never_negative(balance: Decimal, change: Decimal) -> None:
    try:
        after = rules.balance_after(balance, -change)
    except rules.NegativeBalance:
        assert change > balance
    else:
        assert after == balance - change
        assert after >= 0


def test_vial_is_usable_through_its_expiry_date() -> None:
    state = rules.vial_state(
        now=T0,
        today=dt.date(2026, 3, 2),
        expires_on=dt.date(2026, 3, 2),
        opened_at=None,
        discard_after_opening_days=28,
    )
    assert state is rules.VialState.USABLE
    state = rules.vial_state(
        now=T0,
        today=dt.date(2026, 3, 3),
        expires_on=dt.date(2026, 3, 2),
        opened_at=None,
        discard_after_opening_days=28,
    )
    assert state is rules.VialState.EXPIRED


def test_opened_multi_dose_vial_is_refused_after_the_discard_time() -> None:
    opened = T0 - dt.timedelta(days=28)
    late = rules.vial_state(
        now=T0,
        today=T0.date(),
        expires_on=dt.date(2027, 1, 1),
        opened_at=opened,
        discard_after_opening_days=28,
    )
    just_in_time = rules.vial_state(
        now=T0 - dt.timedelta(seconds=1),
        today=T0.date(),
        expires_on=dt.date(2027, 1, 1),
        opened_at=opened,
        discard_after_opening_days=28,
    )
    assert late is rules.VialState.PAST_DISCARD_DATE
    assert just_in_time is rules.VialState.USABLE


def test_expiry_window_includes_expired_lots() -> None:
    today = dt.date(2026, 3, 2)
    assert rules.expires_within(dt.date(2026, 5, 31), today, 90)
    assert rules.expires_within(dt.date(2026, 1, 1), today, 90)
    assert not rules.expires_within(dt.date(2026, 6, 1), today, 90)


def test_signers_count_the_person_acting_and_the_witness() -> None:
    assert rules.signers_suffice(2, 2)
    assert not rules.signers_suffice(2, 3)


def test_reconciliation_gap_is_what_is_unaccounted_for() -> None:
    balanced = rules.Reconciliation(Decimal("40.000"), Decimal("35.000"), Decimal("5.000"))
    short = rules.Reconciliation(Decimal("40.000"), Decimal("30.000"), Decimal("5.000"))
    assert (balanced.gap_mg, balanced.balanced) == (Decimal("0.000"), True)
    assert (short.gap_mg, short.balanced) == (Decimal("5.000"), False)


def test_count_difference_is_negative_when_stock_is_missing() -> None:
    assert rules.count_difference(Decimal("10.000"), Decimal("9.500")) == Decimal("-0.500")


def _values(sequence: int, product: int = 1, amount: str = "40.000", reason: str = "") -> list[object]:
    fields: dict[str, object] = dict.fromkeys(rules.HASHED_FIELDS)
    fields.update(
        clinic_id=1,
        product_id=product,
        sequence=sequence,
        kind=EntryKind.DRAWN.value,
        vial_id=7,
        amount_mg=Decimal(amount),
        amount_ml=Decimal("0.800"),
        balance_change_mg=Decimal("-" + amount),
        balance_change_ml=Decimal("-0.800"),
        balance_after_mg=Decimal("460.000"),
        balance_after_ml=Decimal("9.200"),
        location_id=3,
        performed_by_id=5,
        method="",
        reason=reason,
        occurred_at=T0 + dt.timedelta(minutes=sequence),
    )
    return [fields[name] for name in rules.HASHED_FIELDS]


def _chain(count: int, product: int = 1, start_id: int = 1) -> list[tuple[object, ...]]:
    rows = []
    previous = rules.GENESIS_HASH
    for sequence in range(1, count + 1):
        values = _values(sequence, product)
        digest = rules.entry_hash(previous, values, KEY)
        rows.append((start_id + sequence - 1, previous, digest, *values))
        previous = digest
    return rows


def test_hash_is_sha256_hex_and_depends_on_the_previous_hash() -> None:
    values = _values(1)
    first = rules.entry_hash(rules.GENESIS_HASH, values, KEY)
    assert len(first) == 64
    assert first != rules.entry_hash("1" * 64, values, KEY)
    assert first == rules.entry_hash(rules.GENESIS_HASH, list(values), KEY)


def test_canonical_text_cannot_move_content_between_fields() -> None:
    a = _values(1, reason="ab")
    b = _values(1, reason="a")
    b[rules.HASHED_FIELDS.index("method")] = "b"
    a[rules.HASHED_FIELDS.index("method")] = ""
    assert rules.canonical(a) != rules.canonical(b)


def test_intact_chains_verify() -> None:
    rows = _chain(3, product=1) + _chain(2, product=2, start_id=10)
    heads = {1: (3, str(rows[2][2])), 2: (2, str(rows[4][2]))}
    report = rules.verify_chain(rows, heads, key=KEY)
    assert (report.intact, report.entries_checked, report.broken) == (True, 5, None)


def test_changed_amount_is_found_at_that_entry() -> None:
    rows = [list(row) for row in _chain(4)]
    rows[2][3 + rules.HASHED_FIELDS.index("amount_mg")] = Decimal("4.000")
    report = rules.verify_chain(rows, key=KEY)
    assert report.broken == rules.BrokenLink(3, 1, 3, ChainProblem.CONTENT_CHANGED)
    assert report.entries_checked == 3


def test_rehashed_entry_breaks_the_next_link() -> None:
    rows = [list(row) for row in _chain(4)]
    rows[1][3 + rules.HASHED_FIELDS.index("amount_mg")] = Decimal("4.000")
    rows[1][2] = rules.entry_hash(str(rows[1][1]), rows[1][3:], KEY)
    report = rules.verify_chain(rows, key=KEY)
    assert report.broken == rules.BrokenLink(3, 1, 3, ChainProblem.LINK_BROKEN)


def test_removed_entry_is_found_as_a_gap() -> None:
    rows = _chain(4)
    del rows[1]
    report = rules.verify_chain(rows, key=KEY)
    assert report.broken == rules.BrokenLink(3, 1, 3, ChainProblem.SEQUENCE_GAP)


def test_cut_off_tail_is_found_against_the_head() -> None:
    rows = _chain(4)
    heads = {1: (4, str(rows[3][2]))}
    report = rules.verify_chain(rows[:3], heads, key=KEY)
    assert report.broken == rules.BrokenLink(None, 1, 4, ChainProblem.HEAD_MISMATCH)


def test_whole_chain_removed_is_found_against_the_head() -> None:
    report = rules.verify_chain([], {5: (2, "f" * 64)}, key=KEY)
    assert report.broken == rules.BrokenLink(None, 5, 1, ChainProblem.HEAD_MISMATCH)


@given(st.integers(min_value=1, max_value=12), st.data())
def test_any_single_changed_field_is_found_at_its_entry(length: int, data: st.DataObject) -> None:
    rows = [list(row) for row in _chain(length)]
    index = data.draw(st.integers(min_value=0, max_value=length - 1))
    field = data.draw(
        st.sampled_from([name for name in rules.HASHED_FIELDS if name not in ("sequence", "product_id")])
    )
    position = 3 + rules.HASHED_FIELDS.index(field)
    rows[index][position] = f"tampered-{rows[index][position]}"
    report = rules.verify_chain(rows, key=KEY)
    assert report.broken == rules.BrokenLink(index + 1, 1, index + 1, ChainProblem.CONTENT_CHANGED)


def test_a_chain_rewritten_without_the_key_fails_at_the_changed_entry() -> None:
    """The attack of issue 16: change an amount, recompute every later hash and the head with plain sha256."""
    rows = [list(row) for row in _chain(4)]
    rows[1][3 + rules.HASHED_FIELDS.index("amount_mg")] = Decimal("4.000")
    previous = str(rows[1][1])
    for row in rows[1:]:
        row[1] = previous
        row[2] = previous = rules.unkeyed_entry_hash(previous, row[3:])
    report = rules.verify_chain(rows, {1: (4, previous)}, key=KEY)
    assert report.broken == rules.BrokenLink(2, 1, 2, ChainProblem.CONTENT_CHANGED)


def test_a_chain_rewritten_with_the_key_fails_at_the_anchored_head() -> None:
    """Someone holding the key recomputes everything; the head anchored in a checkpoint no longer matches."""
    original = _chain(4)
    anchors = {1: {3: str(original[2][2])}}
    rows = [list(row) for row in original]
    rows[1][3 + rules.HASHED_FIELDS.index("amount_mg")] = Decimal("4.000")
    previous = str(rows[1][1])
    for row in rows[1:]:
        row[1] = previous
        row[2] = previous = rules.entry_hash(previous, row[3:], KEY)
    assert rules.verify_chain(rows, {1: (4, previous)}, key=KEY).intact
    report = rules.verify_chain(rows, {1: (4, previous)}, key=KEY, anchors=anchors)
    assert report.broken == rules.BrokenLink(3, 1, 3, ChainProblem.ANCHOR_MISMATCH)


def test_entries_cut_off_after_an_anchor_are_found_even_with_the_head_moved_back() -> None:
    rows = _chain(4)
    anchors = {1: {4: str(rows[3][2])}}
    report = rules.verify_chain(rows[:2], {1: (2, str(rows[1][2]))}, key=KEY, anchors=anchors)
    assert report.broken == rules.BrokenLink(None, 1, 4, ChainProblem.ANCHOR_MISSING)


def test_an_intact_chain_matches_its_anchors() -> None:
    rows = _chain(4)
    anchors = {1: {2: str(rows[1][2]), 4: str(rows[3][2])}}
    report = rules.verify_chain(rows, {1: (4, str(rows[3][2]))}, key=KEY, anchors=anchors)
    assert (report.intact, report.entries_checked) == (True, 4)


def test_another_key_breaks_the_first_entry() -> None:
    report = rules.verify_chain(_chain(2), key=b"another-key-0123456789abcdefghijklmn")
    assert report.broken == rules.BrokenLink(1, 1, 1, ChainProblem.CONTENT_CHANGED)


def test_counts_due_daily_and_full_inventory() -> None:
    today = dt.date(2026, 12, 7)
    due = rules.counts_due(
        today=today,
        last_daily=dt.date(2026, 12, 4),
        last_full=dt.date(2024, 12, 20),
        daily_required=True,
        full_interval_months=24,
        full_warning_days=30,
    )
    assert [(d.kind, d.due_on, d.overdue, d.text) for d in due] == [
        ("daily", today, False, "Today's end-of-day count is not recorded yet."),
        ("full", dt.date(2026, 12, 20), False, "The full inventory is due on Sun 20 Dec 2026."),
    ]
    assert (
        rules.counts_due(
            today=today,
            last_daily=today,
            last_full=dt.date(2026, 1, 5),
            daily_required=True,
            full_interval_months=24,
            full_warning_days=30,
        )
        == []
    )
    assert [
        d.text
        for d in rules.counts_due(
            today=today,
            last_daily=None,
            last_full=None,
            daily_required=False,
            full_interval_months=24,
            full_warning_days=30,
        )
    ] == ["No initial inventory is recorded: take one."]
    assert rules.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
