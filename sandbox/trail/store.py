"""Where the trail is kept: the most recent records in memory, for
`GET /_sandbox/trail`, and with a data directory every record as a JSON line
in `<data-dir>/trail/<YYYY-MM-DD>.jsonl`, one file a day (UTC), as CloudTrail
delivers files per period.

A request only appends to memory and to a queue: a writer thread encodes and
appends to the file, so disk time never sits on a request. The files are
private like the rest of the data directory (0700 directory, 0600 files): the
trail has no secrets, but it is a record of who did what. On start the
newest records are read back, so the trail survives a restart; a line that
does not parse (a crash mid-write) is skipped with a warning.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import logging
import os
import queue
import threading
from collections import deque
from pathlib import Path
from typing import Any

from sandbox.persistence import _open_private, _private_directory

log = logging.getLogger("sandbox.trail")

IN_MEMORY = 10_000  # records served by /_sandbox/trail; older ones stay in the files
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_STOP = object()


class TrailStore:
    def __init__(self, directory: Path | None = None, *, in_memory: int = IN_MEMORY) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._times: deque[dt.datetime] = deque(maxlen=in_memory)
        self._records: deque[dict[str, Any]] = deque(maxlen=in_memory)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._stamp: tuple[dt.datetime, str] | None = None  # the last second, formatted once
        if self.directory is not None:
            _private_directory(self.directory)
            self._load(in_memory)
            self._writer = threading.Thread(target=self._write_loop, name="sandbox-trail", daemon=True)
            self._writer.start()

    # -- keeping
    def append(self, record: dict[str, Any]) -> None:
        """Stamp `eventTime` (never earlier than the last record's, so the
        trail stays ascending) and keep the record."""
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        with self._lock:
            if self._times and now < self._times[-1]:
                now = self._times[-1]  # the clock stepped back
            if self._stamp is None or self._stamp[0] != now:
                self._stamp = (now, now.strftime(TIME_FORMAT))
            record["eventTime"] = self._stamp[1]
            self._times.append(now)
            self._records.append(record)
            if self._writer is not None:
                self._queue.put(record)

    def query(self, *, since: dt.datetime | None, limit: int) -> list[dict[str, Any]]:
        """Records with eventTime >= since, oldest first, at most `limit`."""
        with self._lock:
            start = 0 if since is None else bisect.bisect_left(self._times, since)
            end = min(start + limit, len(self._records))
            return list(itertools.islice(self._records, start, end))

    def close(self) -> None:
        """Write what is queued and stop the writer."""
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join(timeout=10)
            self._writer = None

    # -- the files
    def _path(self, day: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{day}.jsonl"

    def _write_loop(self) -> None:
        handles: dict[str, Any] = {}
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < 1000:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = any(item is _STOP for item in batch)
                for item in batch:
                    if item is _STOP:
                        continue
                    day = item["eventTime"][:10]
                    handle = handles.get(day)
                    if handle is None:
                        for old in handles.values():  # one day's file open at a time
                            old.close()
                        handles = {day: open(_open_private(self._path(day), os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8")}
                        handle = handles[day]
                    handle.write(json.dumps(item, separators=(",", ":")) + "\n")
                for handle in handles.values():
                    handle.flush()
                if stop:
                    for handle in handles.values():
                        os.fsync(handle.fileno())
                    return
        except Exception:  # keep serving: the trail in memory still answers
            log.exception("writing the trail to %s failed; records from now on are kept in memory only", self.directory)
        finally:
            for handle in handles.values():
                handle.close()

    def _load(self, wanted: int) -> None:
        """The newest `wanted` records from the day files, oldest first."""
        assert self.directory is not None
        loaded: list[tuple[dt.datetime, dict[str, Any]]] = []
        for path in sorted(self.directory.glob("????-??-??.jsonl"), reverse=True):
            if len(loaded) >= wanted:
                break
            os.chmod(path, 0o600)
            day: list[tuple[dt.datetime, dict[str, Any]]] = []
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    try:
                        item = json.loads(line)
                        day.append((dt.datetime.strptime(item["eventTime"], TIME_FORMAT).replace(tzinfo=dt.timezone.utc), item))
                    except (ValueError, KeyError, TypeError):
                        log.warning("%s line %d is not a trail record; skipped", path, number)
            loaded = day + loaded
        loaded.sort(key=lambda pair: pair[0])  # stable: a day's own order is kept
        for time, item in loaded[-wanted:]:
            self._times.append(time)
            self._records.append(item)
