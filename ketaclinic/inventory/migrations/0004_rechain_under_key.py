"""Re-chain the existing ledger under the chain key (KETACLINIC_CHAIN_KEY).

Until now each link was a plain sha256, which anyone able to write the database could recompute. This
migration first checks every existing chain under the old rule, refuses to go on if one is broken (re-keying
would launder a tampered history: investigate with the old release's `verify_ledger` first), then replaces each
entry's hashes with HMAC-SHA256 under the key and moves the chain heads along. The append-only triggers are
lifted for the ledger table for this one transaction and installed again; only the role that owns the tables
(the migration role) can do that. A database without ledger entries is not touched.
"""

from typing import Any

from django.db import migrations

from ketaclinic.core.chains import chain_key
from ketaclinic.core.db import append_only_lifted
from ketaclinic.inventory import rules


def rechain(apps: Any, schema_editor: Any) -> None:
    LedgerEntry = apps.get_model("inventory", "LedgerEntry")
    ChainHead = apps.get_model("inventory", "ChainHead")
    if not LedgerEntry.objects.exists():
        return
    key = chain_key()
    connection = schema_editor.connection
    table = LedgerEntry._meta.db_table
    rows = LedgerEntry.objects.order_by("product_id", "sequence").values_list(
        "id", "previous_hash", "entry_hash", *rules.HASHED_FIELDS
    )
    # The old chains must be intact before they are re-keyed.
    product: object = None
    previous = rules.GENESIS_HASH
    expected = 1
    new_hashes: list[tuple[int, str, str]] = []
    new_previous = rules.GENESIS_HASH
    heads: dict[int, tuple[int, str]] = {}
    for row in rows.iterator(chunk_size=5000):
        entry_id, previous_hash, stored_hash, values = row[0], row[1], row[2], row[3:]
        if values[1] != product:
            product, previous, expected, new_previous = values[1], rules.GENESIS_HASH, 1, rules.GENESIS_HASH
        if (
            values[2] != expected
            or previous_hash != previous
            or rules.unkeyed_entry_hash(previous, values) != stored_hash
        ):
            raise RuntimeError(
                f"The ledger is broken at product {product}, entry {values[2]} (row {entry_id}) under the old "
                "sha256 chain: not re-keying it. Investigate with verify_ledger before migrating."
            )
        digest = rules.entry_hash(new_previous, values, key)
        new_hashes.append((entry_id, new_previous, digest))
        heads[int(values[1])] = (int(values[2]), digest)
        previous, expected, new_previous = stored_hash, expected + 1, digest
    with append_only_lifted(schema_editor, table), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET previous_hash = %s, entry_hash = %s WHERE id = %s",  # noqa: S608
            [(previous_hash, entry_hash, entry_id) for entry_id, previous_hash, entry_hash in new_hashes],
        )
    for product_id, (sequence, digest) in heads.items():
        ChainHead.objects.filter(product_id=product_id, sequence=sequence).update(entry_hash=digest)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_refuse_truncate_and_replace")]

    operations = [migrations.RunPython(rechain, migrations.RunPython.noop, elidable=False)]
