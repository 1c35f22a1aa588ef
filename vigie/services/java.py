"""Finding a JDK recent enough for the embedded Elasticsearch."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vigie.services.errors import ServiceError

#: Elasticsearch 8.19 runs on Java 17 and later (9.x would need 21).
MIN_JAVA = 17

_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


@dataclass(frozen=True)
class Java:
    home: Path
    major: int
    description: str


def java_version(home: Path) -> Java | None:
    """The major version of the JDK at ``home``, or None when it is not a working JDK."""
    binary = home / "bin" / "java"
    if not binary.is_file():
        return None
    try:
        out = subprocess.run(
            [str(binary), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = out.stderr + out.stdout
    match = _VERSION.search(text)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    return Java(home=home, major=major, description=text.splitlines()[0] if text else "")


def _candidates(explicit: Path | None) -> list[Path]:
    homes: list[Path] = []
    if explicit is not None:
        return [explicit]
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(var):
            homes.append(Path(os.environ[var]))
    for directory in ("/usr/lib/jvm", "/usr/local/lib/jvm", "/opt/java"):
        root = Path(directory)
        if root.is_dir():
            homes.extend(sorted(path for path in root.iterdir() if path.is_dir()))
    on_path = _java_on_path()
    if on_path is not None:
        homes.append(on_path)
    return homes


def _java_on_path() -> Path | None:
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        binary = Path(directory) / "java"
        if binary.is_file():
            return binary.resolve().parent.parent
    return None


def find_java(explicit: Path | None = None, minimum: int = MIN_JAVA) -> Java:
    """The first JDK of at least ``minimum``: VIGIE_JAVA_HOME, ES_JAVA_HOME, JAVA_HOME, then the usual places.

    Raises a ServiceError saying what was found and how to fix it.
    """
    seen: list[Java] = []
    for home in _candidates(explicit):
        java = java_version(home)
        if java is None:
            continue
        if java.major >= minimum:
            return java
        seen.append(java)
    if explicit is not None and not seen:
        raise ServiceError(
            "java",
            f"VIGIE_JAVA_HOME={explicit} does not hold a working JDK (no {explicit}/bin/java that runs).",
            f"Point VIGIE_JAVA_HOME at a JDK {minimum} or newer, or unset it to let Vigie look.",
        )
    if seen:
        found = ", ".join(f"Java {java.major} at {java.home}" for java in seen)
        raise ServiceError(
            "java",
            f"Elasticsearch needs Java {minimum} or newer, and only {found} was found.",
            f"Install one (on Debian: apt-get install openjdk-{minimum}-jre-headless) or set "
            f"VIGIE_JAVA_HOME to a JDK {minimum}+; scripts/setup.sh installs it when it runs as root.",
        )
    raise ServiceError(
        "java",
        "no Java runtime was found (looked at VIGIE_JAVA_HOME, ES_JAVA_HOME, JAVA_HOME, /usr/lib/jvm and PATH).",
        f"Install Java {minimum} or newer (on Debian: apt-get install openjdk-{minimum}-jre-headless) or set "
        "VIGIE_JAVA_HOME; scripts/setup.sh installs it when it runs as root.",
    )
