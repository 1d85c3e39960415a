"""Where a call log is: a SQLite file (a ``Path``) or a PostgreSQL database named by its URL.

Shared by the settings (which name the log) and the log layer (which opens it); psycopg is not
imported here, so naming a PostgreSQL log costs nothing until it is opened (``log.pg``).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import DatabaseError

URL_PREFIXES = ("postgresql://", "postgres://")


def is_url(value: object) -> bool:
    """Whether ``value`` names a PostgreSQL log rather than a SQLite file."""
    return isinstance(value, PostgresLog) or (
        isinstance(value, str) and value.strip().lower().startswith(URL_PREFIXES)
    )


class PostgresLog:
    """A call log in a PostgreSQL database, named by its URL. ``str()`` shows it without a password
    (every message and the report name the log that way); ``url`` is what connects."""

    def __init__(self, url: str) -> None:
        self.url = url.strip()
        try:
            parts = urlsplit(self.url)
            port = parts.port
        except ValueError:
            raise DatabaseError(
                f"The PostgreSQL URL {self._redact_raw()} cannot be read: give postgresql://user@host:port/database."
            ) from None
        self.user = unquote(parts.username or "")
        self.host = parts.hostname or "localhost"
        self.port = port
        self.database = unquote(parts.path.lstrip("/")) or self.user
        netloc = (f"{parts.username}@" if parts.username else "") + (parts.hostname or "")
        netloc += f":{port}" if port else ""
        # The query stays (sslmode, options...) so the shown URL still opens the log, but a password
        # given there goes, as one given before the host does.
        query = "&".join(q for q in parts.query.split("&") if q and not q.lower().startswith("password="))
        self.shown = urlunsplit((parts.scheme, netloc, parts.path, query, ""))

    def _redact_raw(self) -> str:
        head, sep, tail = self.url.partition("@")
        return ("postgresql://…@" + tail) if sep else self.url

    @property
    def name(self) -> str:
        """The database's name (what a file's name is to a SQLite log)."""
        return self.database

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"PostgresLog({self.shown!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostgresLog) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)
