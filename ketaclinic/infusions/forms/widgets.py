"""Widgets the chair's forms share."""

from typing import Any

from django import forms


class RadioTiles(forms.RadioSelect):
    """Radio buttons drawn as large tap targets (styled in app.css)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"class": "tiles", **(attrs or {})})
