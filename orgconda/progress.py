"""Download progress: one bar redrawn in place on a terminal, plain lines elsewhere (CI logs).

Downloads run concurrently, so the bar shows the whole batch: bytes and packages done of the
total. Without a terminal each package gets a line when it starts (name, size, URL) and the
batch a closing line (count, bytes, seconds), so a CI log shows what was fetched from where.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

BAR_WIDTH = 28
REDRAW_SECONDS = 0.1


def human_size(n: float) -> str:
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            break
    return f"{n:.1f} {unit}"


class Progress:
    """``tty`` defaults to whether ``stream`` is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._lock = threading.Lock()
        self._files = self._files_done = 0
        self._bytes = self._bytes_done = 0
        self._start = self._drawn = 0.0
        self._current = ""

    def note(self, line: str) -> None:
        with self._lock:
            if self.tty and self._files:
                self.stream.write("\r\x1b[K")
            self.stream.write(line + "\n")
            if self.tty and self._files:
                self._draw()
            self.stream.flush()

    def begin(self, files: int, total_bytes: int) -> None:
        with self._lock:
            self._files, self._bytes = files, total_bytes
            self._files_done = self._bytes_done = 0
            self._start = self._drawn = time.monotonic()
            if self.tty:
                self._draw()
            else:
                self.stream.write(
                    f"downloading {files} package{'s' if files != 1 else ''} "
                    f"({human_size(total_bytes)})\n"
                )
            self.stream.flush()

    def file_started(self, name: str, size: int | None, url: str) -> None:
        with self._lock:
            self._current = name
            if not self.tty:
                shown = human_size(size) if size is not None else "size unknown"
                self.stream.write(f"  {name} ({shown}) from {url}\n")
                self.stream.flush()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self._bytes_done += nbytes
            now = time.monotonic()
            if self.tty and now - self._drawn >= REDRAW_SECONDS:
                self._drawn = now
                self._draw()

    def file_done(self, name: str) -> None:
        with self._lock:
            self._files_done += 1
            if self.tty:
                self._draw()

    def end(self, ok: bool = True) -> None:
        with self._lock:
            seconds = time.monotonic() - self._start
            if self.tty:
                self._draw()
                self.stream.write("\n")
            state = "downloaded" if ok else "stopped after"
            self.stream.write(
                f"{state} {self._files_done} of {self._files} package"
                f"{'s' if self._files != 1 else ''}, {human_size(self._bytes_done)} "
                f"in {seconds:.1f} s\n"
            )
            self._files = 0
            self.stream.flush()

    def _draw(self) -> None:
        done, total = self._bytes_done, self._bytes
        filled = min(BAR_WIDTH, int(BAR_WIDTH * done / total)) if total else 0
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(
            f"\r  [{bar}] {human_size(done)} / {human_size(total)}  "
            f"{self._files_done}/{self._files} packages  {self._current[:40]}\x1b[K"
        )
        self.stream.flush()
