"""Notifiers that do not call anyone: the console (the default without Twilio credentials) and a JSON-lines
file (dry runs, and tests that watch several worker processes from outside)."""
import json
import logging
import os
import sys
import threading
import time
import uuid
from typing import TextIO

log = logging.getLogger(__name__)


class ConsoleNotifier:
    """Prints each page and returns an id like "console-<uuid>"; nothing leaves the machine."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def _emit(self, text: str) -> str:
        provider_id = f"console-{uuid.uuid4()}"
        with self._lock:
            print(f"{text} [{provider_id}]", file=self._stream or sys.stdout, flush=True)
        log.info("console page %s", provider_id)
        return provider_id

    def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        indented = body.replace("\n", "\n    ")
        return self._emit(f"--- SMS to {to} ---\n    {indented}\n---")

    def place_call(self, *, to: str, twiml: str, status_callback: str | None = None) -> str:
        return self._emit(f"--- voice call to {to} ---\n    {twiml}\n---")


class FileNotifier:
    """Appends one JSON line per page ({"id", "at", "channel", "to", "body"}) to `path`.

    Each line is one O_APPEND write, so several processes can share the file without mixing lines."""

    name = "file"

    def __init__(self, path: str) -> None:
        self.path = path

    def _append(self, channel: str, to: str, body: str) -> str:
        provider_id = f"file-{uuid.uuid4()}"
        line = json.dumps({"id": provider_id, "at": time.time(), "pid": os.getpid(), "channel": channel, "to": to,
                           "body": body}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return provider_id

    def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        return self._append("sms", to, body)

    def place_call(self, *, to: str, twiml: str, status_callback: str | None = None) -> str:
        return self._append("voice", to, twiml)
