"""Security log lines that cannot be forged: one JSON object per line.

Usernames and paths come from anyone (a login form, a 404 path): a newline in them must not start a
convincing fake line ("security: login: user=demo-admin ..."). The formatter writes each record as
one JSON object, so every control character in what was logged is escaped and a reader (or a log
shipper) parses fields, not text.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=True)
