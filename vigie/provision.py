"""What `scripts/setup.sh` does after the Python environment exists: system pieces and downloads.

- Debian's ``redis-server`` (apt-get, as root or with sudo) when it is missing;
- a Java runtime for Elasticsearch (Debian's openjdk-17) when none recent enough is found;
- the Elasticsearch distribution from Maven Central, resolved by ``mvn`` into the cache folder and
  unpacked there. Every step is skipped when its result is already present, so a second run does no
  download.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from conf.settings import Settings
from vigie.services.errors import ServiceError
from vigie.services.java import MIN_JAVA, find_java

ES_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"

Report = Callable[[str], None]


def _privileged(command: list[str]) -> list[str] | None:
    """``command`` run as root: directly when we are root, through sudo when it works, else None."""
    if os.geteuid() == 0:
        return command
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n", *command]
    return None


def _apt_install(package: str, service: str, report: Report) -> None:
    base = ["apt-get", "install", "-y", "--no-install-recommends", package]
    command = _privileged(base)
    if command is None or shutil.which("apt-get") is None:
        raise ServiceError(
            service,
            f"{package} is not installed and cannot be installed here "
            + ("(no apt-get)." if shutil.which("apt-get") is None else "(not root and no password-less sudo)."),
            f"Install it yourself (apt-get install {package}) and run scripts/setup.sh again.",
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    report(f"installing Debian package {package}")
    # Debian's postinst would start its own copy of the service; Vigie runs its own on its own port.
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = False
    if os.geteuid() == 0 and not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        added_policy = True
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            update = _privileged(["apt-get", "update"])
            assert update is not None
            subprocess.run(update, capture_output=True, text=True, env=env, check=False)
            result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
    if result.returncode != 0:
        tail = "\n".join(f"    {line}" for line in (result.stderr or result.stdout).strip().splitlines()[-8:])
        raise ServiceError(
            service,
            f"`{' '.join(base)}` failed with exit code {result.returncode}.",
            "Check that Debian's package mirror is reachable and the disk has room, then run "
            f"scripts/setup.sh again.\nLast lines of apt-get's output:\n{tail}",
        )


def ensure_redis(report: Report) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        _apt_install("redis-server", "redis", report)
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError(
                "redis", "apt-get reported success but redis-server is still not on PATH.",
                "Check the PATH includes /usr/bin, then run scripts/setup.sh again.",
            )
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    return version


def ensure_java(settings: Settings, report: Report) -> str:
    try:
        java = find_java(settings.java_home, MIN_JAVA)
    except ServiceError:
        if settings.java_home is not None:
            raise
        _apt_install(f"openjdk-{MIN_JAVA}-jre-headless", "java", report)
        java = find_java(None, MIN_JAVA)
    return f"Java {java.major} at {java.home}"


def _extract(archive: Path, destination: Path) -> None:
    """Unzip keeping the executable bits (zipfile alone drops them)."""
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            path = Path(bundle.extract(member, destination))
            mode = (member.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode | stat.S_IRUSR | (stat.S_IRGRP | stat.S_IROTH))


def ensure_elasticsearch(settings: Settings, report: Report) -> Path:
    target = settings.es_dist_dir
    if (target / "bin" / "elasticsearch").is_file():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(
            "elasticsearch",
            "Maven (`mvn`) is not installed, and it is how Vigie resolves the Elasticsearch distribution.",
            "Install it (apt-get install maven) and run scripts/setup.sh again.",
        )
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    downloads = settings.cache_dir / "downloads"
    artifact = ES_ARTIFACT.format(version=settings.es_version)
    archive = downloads / f"elasticsearch-{settings.es_version}.zip"
    if not archive.is_file():
        report(f"resolving {artifact} from Maven Central")
        result = subprocess.run(
            [mvn, "-B", "-q", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={downloads}",
             f"-Dmaven.repo.local={settings.cache_dir / 'm2'}"],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0 or not archive.is_file():
            tail = "\n".join(f"    {line}" for line in (result.stdout + result.stderr).strip().splitlines()[-10:])
            raise ServiceError(
                "elasticsearch",
                f"`mvn dependency:copy -Dartifact={artifact}` failed (exit code {result.returncode}).",
                "Check that Maven Central is reachable and VIGIE_ES_VERSION names a published version, then "
                f"run scripts/setup.sh again.\nLast lines of Maven's output:\n{tail}",
            )
    report(f"unpacking {archive.name}")
    with tempfile.TemporaryDirectory(dir=settings.cache_dir) as scratch:
        _extract(archive, Path(scratch))
        unpacked = Path(scratch) / f"elasticsearch-{settings.es_version}"
        if not (unpacked / "bin" / "elasticsearch").is_file():
            raise ServiceError(
                "elasticsearch", f"{archive} does not hold elasticsearch-{settings.es_version}/bin/elasticsearch.",
                f"Delete {archive} and run scripts/setup.sh again.",
            )
        unpacked.rename(target)  # atomic: a half-unpacked folder is never taken for a good one
    for parent in (settings.cache_dir, target):
        parent.chmod(parent.stat().st_mode | 0o055)
    return target


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def ensure_browser(report: Report) -> str:
    """Debian's Chromium and its chromedriver, for the browser tests only (`vigie setup --browser`):
    the tests drive this pair, so nothing downloads a browser of its own at test time."""
    for package, binary in (("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER)):
        if not binary.exists():
            _apt_install(package, "browser", report)
            if not binary.exists():
                raise ServiceError(
                    "browser", f"apt-get installed {package} but {binary} is still missing.",
                    f"Check `dpkg -L {package}`, then run scripts/test.sh again.",
                )
    result = subprocess.run([str(CHROMEDRIVER), "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or f"{CHROMEDRIVER}"


def provision(settings: Settings, report: Report) -> dict[str, str]:
    """Make everything the services need present. Returns what was found, for the summary line."""
    return {
        "redis": ensure_redis(report),
        "java": ensure_java(settings, report),
        "elasticsearch": str(ensure_elasticsearch(settings, report)),
    }
