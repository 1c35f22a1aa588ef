"""Headless Debian Chromium driven through Debian's chromedriver, over the W3C WebDriver HTTP API.

No Selenium and nothing downloaded at test time: `vigie setup --browser` installs the Debian packages
``chromium`` and ``chromium-driver``; this module starts ``/usr/bin/chromedriver`` on a free port and
speaks its JSON protocol with httpx. The flags keep Chromium from reaching out to the network (this
machine refuses such connections, and tests must not depend on them) and let it run as root.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.services import TEST_HOME
from vigie.services.processes import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS_ENV = "VIGIE_TEST_SCREENSHOTS"
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
#: How long ``wait_for`` waits by default. Generous: it ends as soon as the element is there, and on a busy
#: two-process run the tests' services answer several times slower than alone (a search page once
#: waited more than 20 s for its first answer).
WAIT = 60.0

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
    "--metrics-recording-only", "--mute-audio", "--lang=en-GB",
)


class BrowserError(AssertionError):
    pass


def screenshot_dir() -> Path:
    """Where the browser tests write their screenshots: ``$VIGIE_TEST_SCREENSHOTS`` or the ignored
    .vigie-test/screenshots/ of the checkout, never the tracked docs/screenshots/ (a test run leaves the
    checkout clean). `scripts/screenshots.sh` copies them into docs/screenshots/ when asked."""
    configured = os.environ.get(SCREENSHOTS_ENV)
    return Path(configured) if configured else TEST_HOME / "screenshots"


class Browser:
    """One Chromium session. ``find``/``wait_for`` take CSS selectors."""

    def __init__(self, width: int = 1280, height: int = 1000) -> None:
        for binary in (CHROMIUM, CHROMEDRIVER):
            if not binary.exists():
                raise BrowserError(f"{binary} is missing: run `vigie setup --browser` (scripts/test.sh does) to "
                                   "install Debian's chromium and chromium-driver.")
        self.profile = Path(tempfile.mkdtemp(prefix="vigie-chromium-"))
        self.port = free_port()
        self.driver = subprocess.Popen([str(CHROMEDRIVER), f"--port={self.port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        self.session = ""
        try:
            self._wait_ready()
            capabilities = {"browserName": "chrome", "goog:chromeOptions": {
                "binary": str(CHROMIUM),
                "args": [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}"],
            }}
            value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
            self.session = value["sessionId"]
            self._call("POST", self._path("/timeouts"), {"script": 30000, "pageLoad": 30000, "implicit": 0})
        except BaseException:
            self.quit()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.http.get("/status").json()["value"]["ready"]:
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if self.driver.poll() is not None:
                raise BrowserError(f"chromedriver exited with code {self.driver.returncode}")
            time.sleep(0.1)
        raise BrowserError("chromedriver did not become ready in 30 s")

    def _path(self, suffix: str) -> str:
        return f"/session/{self.session}{suffix}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body if body is not None else ({} if method == "POST" else None))
        data = response.json()
        if response.status_code >= 400:
            value = data.get("value", {})
            raise BrowserError(f"WebDriver {method} {path}: {value.get('error')}: {value.get('message', '')[:500]}")
        return data.get("value")

    # -- pages ----------------------------------------------------------------------------------------

    def get(self, url: str) -> None:
        self._call("POST", self._path("/url"), {"url": url})

    @property
    def url(self) -> str:
        return str(self._call("GET", self._path("/url")))

    def execute(self, script: str, *args: Any) -> Any:
        return self._call("POST", self._path("/execute/sync"), {"script": script, "args": list(args)})

    def _cdp(self, command: str, params: dict[str, Any]) -> Any:
        return self._call("POST", self._path("/goog/cdp/execute"), {"cmd": command, "params": params})

    def set_viewport(self, width: int, height: int, mobile: bool = False) -> None:
        """Lay pages out at ``width`` x ``height`` CSS pixels (a phone with ``mobile``: the viewport meta
        tag applies); ``reset_viewport`` goes back to the window's size."""
        self._cdp("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": mobile})

    def reset_viewport(self) -> None:
        self._cdp("Emulation.clearDeviceMetricsOverride", {})

    def prefer_color_scheme(self, scheme: str) -> None:
        """Answer ``prefers-color-scheme`` with ``scheme`` (light or dark; "" for the system's)."""
        self._cdp("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def screenshot(self, path: Path, max_height: int = 3000) -> Path:
        """A PNG of the whole page, up to ``max_height`` CSS pixels (Chromium's DevTools capture)."""
        size = self.execute("return [document.documentElement.scrollWidth, "
                            "Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)]")
        clip = {"x": 0, "y": 0, "width": size[0], "height": min(size[1], max_height), "scale": 1}
        shot = self._call("POST", self._path("/goog/cdp/execute"), {"cmd": "Page.captureScreenshot", "params": {
            "format": "png", "captureBeyondViewport": True, "clip": clip}})
        path.parent.mkdir(parents=True, exist_ok=True)
        png = base64.b64decode(shot["data"])
        if not png.startswith(b"\x89PNG"):
            raise BrowserError(f"Chromium's screenshot of {self.url} is not a PNG")
        path.write_bytes(png)
        return path

    # -- elements -------------------------------------------------------------------------------------

    def find_all(self, selector: str) -> list[str]:
        found = self._call("POST", self._path("/elements"), {"using": "css selector", "value": selector})
        return [item[ELEMENT] for item in found]

    def find(self, selector: str) -> str:
        found = self.find_all(selector)
        if not found:
            raise BrowserError(f"no element matches {selector!r} on {self.url}")
        return found[0]

    def wait_for(self, selector: str, timeout: float = WAIT, text: str | None = None) -> str:
        """The first element matching ``selector`` (and holding ``text``), once it exists."""
        deadline = time.monotonic() + timeout
        while True:
            for element in self.find_all(selector):
                try:
                    if text is None or text in self.text(element):
                        return element
                except BrowserError:
                    pass  # replaced while we looked: look again
            if time.monotonic() > deadline:
                body = self.execute("return document.body ? document.body.innerText : ''")
                raise BrowserError(f"nothing matched {selector!r}" + (f" with {text!r}" if text else "")
                                   + f" within {timeout} s on {self.url}; the page says:\n{str(body)[:2000]}"
                                   + "\nits requests that ended (ms from the page's start, duration):\n"
                                   + self.requests_ended())
            time.sleep(0.1)

    def requests_ended(self) -> str:
        """The page's requests that got their answer, with when they began and how long they took (one a
        line): a request missing from it was still waiting."""
        entries = self.execute("return performance.getEntriesByType('resource').map("
                               "e => [e.name, Math.round(e.startTime), Math.round(e.duration)])")
        return "\n".join(f"  {name} at {start} ms, {duration} ms" for name, start, duration in entries or [])

    def text(self, element: str) -> str:
        return str(self._call("GET", self._path(f"/element/{element}/text")))

    def attribute(self, element: str, name: str) -> str | None:
        return self._call("GET", self._path(f"/element/{element}/attribute/{name}"))

    def css(self, element: str, name: str) -> str:
        return str(self._call("GET", self._path(f"/element/{element}/css/{name}")))

    def click(self, element: str) -> None:
        self._call("POST", self._path(f"/element/{element}/click"))

    def clear(self, element: str) -> None:
        self._call("POST", self._path(f"/element/{element}/clear"))

    def type(self, element: str, text: str) -> None:
        self._call("POST", self._path(f"/element/{element}/value"), {"text": text})

    def accept_alert(self) -> None:
        self._call("POST", self._path("/alert/accept"))

    def quit(self) -> None:
        try:
            if self.session:
                self.http.delete(self._path(""))
        except httpx.HTTPError:
            pass
        finally:
            self.http.close()
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)
