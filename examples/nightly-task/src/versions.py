"""Reads pinned requirements, the file the nightly task keeps current."""

from pathlib import Path


def read_pins(path: Path) -> dict[str, str]:
    """Returns {package: version} for each `name==version` line; other lines are ignored."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" not in line:
            continue
        name, version = line.split("==", 1)
        pins[name.strip().lower()] = version.strip()
    return pins
