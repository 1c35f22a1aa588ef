"""The embedded Elasticsearch: Elastic's integ-test-zip from Maven Central, single node on loopback.

That distribution has no bundled JDK and no analysis-common, percolator or painless modules; Vigie is
designed for that (lemmas from spaCy, alerts evaluated by Vigie). Elasticsearch refuses to run as
root, so under root it runs as an unprivileged system user (VIGIE_ES_USER) that owns its data.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import shutil
import stat
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from vigie.services.errors import ServiceError, log_tail
from vigie.services.java import MIN_JAVA, find_java
from vigie.services.base import EmbeddedService
from vigie.services.processes import ensure_dir

NAME = "elasticsearch"
log = logging.getLogger("vigie.services")
CLUSTER_NAME = "vigie"


@dataclass(frozen=True)
class ElasticsearchService(EmbeddedService):
    home: Path  # VIGIE_HOME
    dist: Path  # the unpacked distribution
    host: str
    port: int
    heap: str = "512m"
    java_home: Path | None = None
    user: str = "vigie-es"
    timeout: float = 90.0

    NAME = NAME
    DISPLAY = "Elasticsearch"
    PROCESS = "node"
    PORT_SETTING = "VIGIE_ES_URL=http://127.0.0.1:<port>"
    STOP_TIMEOUT = 60.0
    STOP_KILLED_HINT = "Its data is recovered from the translog at the next start."

    @property
    def root(self) -> Path:
        return self.home / "elasticsearch"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def data_directory(self) -> Path:
        return self.data_dir

    @property
    def pidfile(self) -> Path:
        return self.root / "run" / "elasticsearch.pid"

    @property
    def logfile(self) -> Path:
        return self.logs_dir / f"{CLUSTER_NAME}.log"

    @property
    def launcher_log(self) -> Path:
        return self.home / "logs" / "elasticsearch-launcher.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- HTTP ------------------------------------------------------------------------------------

    def _get(self, path: str, timeout: float = 3.0) -> dict | None:  # type: ignore[type-arg]
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:  # noqa: S310 (loopback)
                if response.headers.get("X-Elastic-Product") != "Elasticsearch":
                    return None
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def health(self) -> str | None:
        body = self._get("/_cluster/health")
        return body.get("status") if body else None

    def ready(self) -> bool:
        return self.health() in ("green", "yellow")

    # -- lifecycle (start, stop and status: EmbeddedService) ---------------------------------------

    @property
    def launcher(self) -> Path:
        return self.dist / "bin" / "elasticsearch"

    def _check_installed(self) -> None:
        if not self.launcher.is_file():
            raise ServiceError(
                NAME,
                f"the Elasticsearch distribution is not unpacked at {self.dist} (no bin/elasticsearch).",
                "Run scripts/setup.sh, which resolves it from Maven Central into the cache folder "
                "(VIGIE_CACHE_DIR).",
            )
        find_java(self.java_home, MIN_JAVA)

    def _launch(self) -> None:
        java = find_java(self.java_home, MIN_JAVA)
        launcher = self.launcher
        run_as = self._run_as_user()
        self._write_config()
        for directory in (self.config_dir, self.data_dir, self.logs_dir, self.pidfile.parent):
            ensure_dir(directory, owner=run_as)
        ensure_dir(self.launcher_log.parent)
        self._check_readable(run_as)

        env = {key: value for key, value in os.environ.items() if not key.startswith(("ES_", "JAVA_"))}
        env.update(
            ES_JAVA_HOME=str(java.home),
            ES_PATH_CONF=str(self.config_dir),
            ES_JAVA_OPTS=f"-Xms{self.heap} -Xmx{self.heap}",
        )
        command = [str(launcher), "-d", "-p", str(self.pidfile)]
        if run_as is not None:
            command = ["setpriv", f"--reuid={run_as}", f"--regid={run_as}", "--init-groups", *command]
        with self.launcher_log.open("wb") as out:  # this start only
            try:
                result = subprocess.run(
                    command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.root,
                    timeout=self.timeout + 30, check=False,
                )
            except subprocess.TimeoutExpired:
                raise ServiceError(
                    NAME,
                    f"the Elasticsearch launcher did not return within {self.timeout + 30:.0f} s on port {self.port}.",
                    "The machine may be short of memory or CPU; read the log below, then try again or "
                    "raise VIGIE_SERVICE_TIMEOUT.",
                    self.logfile,
                ) from None
        if result.returncode != 0:
            log = self.logfile if log_tail(self.logfile) else self.launcher_log
            raise ServiceError(
                NAME,
                f"Elasticsearch failed to start on {self.host}:{self.port} (launcher exit code "
                f"{result.returncode}, Java {java.major} at {java.home}).",
                "Read the log below for the cause (a bad setting, no disk space, too little memory for "
                f"heap {self.heap}); fix it and run `vigie services start` again.",
                log,
            )

    def _not_ready(self) -> ServiceError:
        pid = self.pid()
        return ServiceError(
            NAME,
            f"Elasticsearch on {self.host}:{self.port} was not ready within {self.timeout:.0f} s"
            + (f" (pid {pid} still runs)" if pid else " and its process has exited") + ".",
            "Read the log below; raise VIGIE_SERVICE_TIMEOUT on a slow machine.",
            self.logfile,
        )

    def _details(self, info: dict[str, object]) -> None:
        health = self.health()
        if health:
            info["health"] = health
            nodes = self._get("/_nodes/_local?filter_path=nodes.*.version,nodes.*.jvm.version")
            if nodes and nodes.get("nodes"):
                node = next(iter(nodes["nodes"].values()))
                info["version"] = node.get("version")
                info["java"] = node.get("jvm", {}).get("version")

    # -- helpers ---------------------------------------------------------------------------------

    def _run_as_user(self) -> str | None:
        """None when we are not root; else the unprivileged user, created if missing."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            useradd = shutil.which("useradd")
            result = None
            if useradd:
                result = subprocess.run(
                    [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.user],
                    capture_output=True, text=True, check=False,
                )
            if result is None or result.returncode != 0:
                raise ServiceError(
                    NAME,
                    f"Elasticsearch refuses to run as root and the user {self.user!r} it should run as "
                    "could not be created" + (f": {result.stderr.strip()}" if result else " (no useradd)."),
                    "Create that user, set VIGIE_ES_USER to an existing unprivileged user, or run Vigie "
                    "as a normal user.",
                )
        if shutil.which("setpriv") is None:
            raise ServiceError(
                NAME, "Elasticsearch refuses to run as root and `setpriv` (util-linux) is missing.",
                "Install util-linux, or run Vigie as a normal user.",
            )
        return self.user

    def _probe(self, run_as: str) -> bool:
        return subprocess.run(
            ["setpriv", f"--reuid={run_as}", f"--regid={run_as}", "--init-groups",
             "test", "-x", str(self.dist / "bin" / "elasticsearch"), "-a", "-w", str(self.data_dir)],
            capture_output=True, check=False,
        ).returncode == 0

    def _check_readable(self, run_as: str | None) -> None:
        """The unprivileged user must reach the distribution and its data. A checkout in a private
        folder (``mktemp -d`` makes them 0700) is made traversable, never readable, for others."""
        if run_as is None or self._probe(run_as):
            return
        opened: list[str] = []
        for target in (self.dist, self.root):
            for folder in reversed(target.resolve().parents):
                mode = folder.stat().st_mode
                if folder.stat().st_uid == 0 and not mode & stat.S_IXOTH:
                    folder.chmod(mode | stat.S_IXOTH)
                    opened.append(str(folder))
        if opened and self._probe(run_as):
            log.warning("made %s traversable (o+x) so that the user %s can reach Elasticsearch's files",
                        ", ".join(opened), run_as)
            return
        raise ServiceError(
            NAME,
            f"the user {run_as!r} that Elasticsearch runs as cannot read {self.dist} or write "
            f"{self.data_dir} (a parent folder is probably private to another user).",
            "Put the checkout, VIGIE_CACHE_DIR and VIGIE_HOME where other users can traverse "
            "(for example under /srv or /work), or run Vigie as a normal user.",
        )

    def _node_settings(self) -> dict[str, object]:
        """What this node's elasticsearch.yml says (a cluster node: vigie.services.elasticsearch_cluster)."""
        return {
            "cluster.name": CLUSTER_NAME,
            "node.name": "vigie-local",
            "discovery.type": "single-node",
            "network.host": self.host,
            "http.port": self.port,
            "path.data": str(self.data_dir),
            "path.logs": str(self.logs_dir),
            # Loopback only, one user: no TLS, no passwords. Never expose this node.
            "xpack.security.enabled": False,
            # A nearly full disk must not turn the index read-only under a running service.
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.auto_create_index": False,
        }

    def _write_config(self) -> None:
        """Our own config folder: the distribution's files plus Vigie's node settings."""
        ensure_dir(self.config_dir)
        source = self.dist / "config"
        for item in source.iterdir():
            target = self.config_dir / item.name
            if item.name == "elasticsearch.yml" or target.exists():
                continue
            if item.is_dir():
                shutil.copytree(item, target)
            else:
                shutil.copy2(item, target)
        settings = self._node_settings()
        lines = [f"{key}: {json.dumps(value)}" for key, value in settings.items()]
        (self.config_dir / "elasticsearch.yml").write_text(
            "# Written by Vigie at every start; edit vigie/services/elasticsearch_server.py instead.\n"
            + "\n".join(lines) + "\n"
        )
