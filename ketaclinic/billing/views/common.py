"""What the billing pages share: PDF and CSV responses, and reading dates from a query string."""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string

from ketaclinic.core.spreadsheet import safe_cell


def refuse_network(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint's url_fetcher: billing documents are self-contained, so nothing is fetched."""
    raise ValueError(f"billing documents fetch nothing: {url[:80]}")


def pdf_response(
    filename: str, template: str, context: dict[str, Any], *, inline: bool = False
) -> HttpResponse:
    # Imported here: WeasyPrint loads its stylesheets on import, which only PDF requests need.
    from weasyprint import HTML  # type: ignore[import-untyped]  # WeasyPrint ships no type information

    html = render_to_string(template, context)
    document = HTML(string=html, url_fetcher=refuse_network, base_url=None).write_pdf()
    response = HttpResponse(document, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


def csv_response(filename: str, rows: Iterable[Sequence[object]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def query_date(raw: str | None, default: dt.date) -> dt.date:
    """A yyyy-mm-dd from the query string, else the default (a bad date is not an error on a GET page)."""
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default
