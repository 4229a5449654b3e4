"""`formdesk serve` as a real process on loopback, for tests that need one (the service
tests, the hostile-input tests): start, stop, kill -9, sign in, run CLI commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import pypdfium2 as pdfium

from formdesk.render.document import PdfRenderer
from formdesk.templates import get_template

from .conftest import sample_values

SECRET = "service-test-key"
PASSWORD = "pw-for-tests-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One data folder and the `formdesk serve` process on it (started on demand).

    `env` adds or overrides environment variables (FORMDESK_READER_MEMORY_MB, ...);
    `args` are extra `serve` options. The process's stdout and stderr go to
    `<data>/../serve-<n>.log`, read back by `output()`. `launcher` replaces
    `python -m formdesk.api` (tests/hostile/faults.py starts it with faults installed);
    `memory_mb` caps the server process's address space (RLIMIT_AS; its reader, inspection
    and render processes inherit it and set their own lower limits).
    """

    def __init__(
        self,
        data: Path,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        launcher: list[str] | None = None,
        memory_mb: int | None = None,
    ):
        self.data = data
        self.memory_mb = memory_mb
        self.launcher = launcher or [sys.executable, "-m", "formdesk.api"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {"FORMDESK_SECRET": SECRET, "FORMDESK_OCR_THREADS": "1"}
        self.env |= env or {}
        self.args = list(args or [])
        self.proc: subprocess.Popen | None = None
        self.log: Path | None = None
        self._starts = 0

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`formdesk ARGS --data-dir DATA`; output captured (text)."""
        return subprocess.run(
            [*self.launcher, *args, "--data-dir", str(self.data)],
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def spawn(self) -> subprocess.Popen:
        """Starts the process without waiting for it to answer."""
        self._starts += 1
        self.log = self.data.parent / f"serve-{self.port}-{self._starts}.log"
        self.data.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    *self.launcher,
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data),
                    *self.args,
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=self._limit if self.memory_mb else None,
            )
        return self.proc

    def _limit(self) -> None:
        """In the server process before it starts: its address space capped at memory_mb."""
        import resource

        limit = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def peak_rss_mb(self) -> int:
        """The server process's peak resident memory so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
        raise AssertionError("no VmHWM")

    def start(self, timeout: float = 60) -> Server:
        """Starts the process and waits until /health answers (any status)."""
        self.spawn()
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited ({self.proc.returncode}): {self.output()}")
            try:
                httpx.get(f"{self.url}/health", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log else ""

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def client(self, username: str = "office", password: str = PASSWORD) -> httpx.Client:
        """A signed-in client that sends the CSRF token on every request.  A sign-in the
        service answers 503 (too many password checks at once, Retry-After) is tried again
        after the wait it names, as a browser's user would (up to 5 times)."""
        c = httpx.Client(base_url=self.url, timeout=60)
        for _ in range(5):
            res = c.post("/api/login", data={"username": username, "password": password})
            if res.status_code != 503:
                break
            time.sleep(float(res.headers.get("retry-after", "1")))
        assert res.status_code == 200, res.text
        c.headers["X-CSRF-Token"] = res.json()["csrf"]
        return c


def tag_scans(tmp: Path, n: int) -> list[tuple[str, bytes, str]]:
    """(file name, JPEG bytes, document id) of n different prefilled tags."""
    tag = get_template("SH-ZH/BD-27")
    out = tmp / "tags.pdf"
    with PdfRenderer(out, SECRET.encode(), gang=False) as r:
        docs = [r.add(tag, sample_values(tag) | {"mileage_km": 10_000 + i}) for i in range(n)]
    pdf = pdfium.PdfDocument(str(out))
    scans = []
    for i, doc in enumerate(docs):
        img = cv2.cvtColor(
            np.asarray(pdf[i].render(scale=150 / 72).to_pil().convert("RGB")), cv2.COLOR_RGB2BGR
        )
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
        scans.append((f"tag{i:03d}.jpg", buf.tobytes(), doc.document_id))
    return scans


def wait_batches(client: httpx.Client, batch_ids: list[str], timeout: float) -> list[dict]:
    end = time.time() + timeout
    while time.time() < end:
        batches = [client.get(f"/api/batches/{b}").json() for b in batch_ids]
        if all(b["state"] == "done" for b in batches):
            return batches
        time.sleep(0.5)
    raise AssertionError(f"batches not read in {timeout} s: {batches}")
