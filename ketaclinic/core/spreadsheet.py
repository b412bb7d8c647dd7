"""CSV exports that a spreadsheet opens safely."""

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a leading quote makes it
# text. Tab and carriage return are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Echo:
    """A file-like object that hands back what csv.writer writes, so rows can be streamed one by one."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet shows as written, never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
