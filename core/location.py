"""Where a call log is: a SQLite file (a ``Path``) or a PostgreSQL database named by its URL.

Shared by the settings (which name the log) and the log layer (which opens it). A URL is read the
way libpq reads it (``psycopg.conninfo.conninfo_to_dict`` when the ``postgres`` extra is installed,
else ``_parse_uri``, the same rules for what matters here), and every place that shows a log shows
``str(PostgresLog)``: the URL rebuilt from what libpq read, without any parameter libpq treats as a
secret. psycopg itself is not imported until a log is opened (``log.pg``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote

from .errors import DatabaseError

URL_PREFIXES = ("postgresql://", "postgres://")
# The connection parameters libpq marks as secret (dispchar "*" in PQconndefaults,
# https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS); used when
# psycopg is missing, else libpq's own list is asked.
SECRET_PARAMETERS = frozenset({"password", "sslpassword", "oauth_client_secret"})
HIDDEN = "…"
PRIVATE_FOLDER_MODE = 0o700  # a folder routermon makes (the data folder, a log's): only its owner enters
PRIVATE_FILE_MODE = 0o600  # a file routermon makes there (a log, a key, the Models API cache)


def make_private_folders(folder: Path) -> None:
    """Create ``folder`` and any missing parent as 0700, whatever the umask (existing folders keep
    their mode). Raises ``OSError`` when one cannot be made (a read-only home, a file in the way)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            made.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:
            continue  # another process made it first: theirs was made private too
        os.chmod(made, PRIVATE_FOLDER_MODE)  # mkdir's mode is masked by the umask


def is_url(value: object) -> bool:
    """Whether ``value`` names a PostgreSQL log rather than a SQLite file."""
    return isinstance(value, PostgresLog) or (
        isinstance(value, str) and value.strip().lower().startswith(URL_PREFIXES)
    )


def secret_parameters() -> frozenset[str]:
    """The parameter names libpq treats as secret (its own list when psycopg is installed)."""
    try:
        from psycopg import pq

        return (
            frozenset(o.keyword.decode() for o in pq.Conninfo.get_defaults() if o.dispchar == b"*")
            | SECRET_PARAMETERS
        )
    except Exception:  # noqa: BLE001 - no psycopg or no libpq: the documented list
        return SECRET_PARAMETERS


def _parse_uri(url: str) -> dict[str, str]:
    """A ``postgresql://`` URI's parameters as libpq's ``conninfo_uri_parse`` reads them: user and
    password before the last ``@`` ahead of the path, hosts and ports, the database as the path,
    then the query, names and values percent-decoded (a query parameter wins over the same part)."""
    rest = url.split("://", 1)[1]
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    params: dict[str, str] = {}
    userinfo, at, hosts = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if user:
            params["user"] = unquote(user, errors="strict")
        if colon:
            params["password"] = unquote(password, errors="strict")
    if hosts:
        names, ports = [], []
        for spec in hosts.split(","):
            host, port = (
                spec[1:].split("]", 1)
                if spec.startswith("[")
                else spec.rsplit(":", 1)
                if ":" in spec
                else (spec, "")
            )
            names.append(unquote(host, errors="strict"))
            ports.append(port.lstrip(":"))
        params["host"] = ",".join(names)
        if any(ports):
            params["port"] = ",".join(ports)
    if slash and path:
        params["dbname"] = unquote(path, errors="strict")
    for pair in query.split("&"):
        if pair:
            name, eq, value = pair.partition("=")
            if not eq:
                raise ValueError(f"a query parameter without a value ({unquote(name)!r})")
            params[unquote(name, errors="strict")] = unquote(value, errors="strict")
    return params


def _parse(url: str) -> dict[str, str]:
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return _parse_uri(url)
    return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}


def _rebuild(params: dict[str, str], secret: frozenset[str]) -> str:
    """The URL of ``params`` without its secrets, still opening the same log."""
    rest = {k: v for k, v in params.items() if k not in secret}
    user, host, port, dbname = (rest.pop(k, None) for k in ("user", "host", "port", "dbname"))
    netloc = f"{quote(user, safe='')}@" if user else ""
    one_host = host is not None and "," not in host and not host.startswith("/") and "," not in (port or "")
    if host is None or one_host:
        shown_host = f"[{host}]" if host and ":" in host else quote(host or "", safe="")
        netloc += shown_host + (f":{quote(port, safe='')}" if port else "")
    else:  # several hosts, or a socket folder: as query parameters, which libpq reads alike
        rest = {"host": host, **({"port": port} if port else {}), **rest}
    path = f"/{quote(dbname, safe='')}" if dbname else ""
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in rest.items())
    return f"postgresql://{netloc}{path}" + (f"?{query}" if query else "")


class PostgresLog:
    """A call log in a PostgreSQL database, named by its URL. ``str()`` shows it without any secret
    (every message and the report name the log that way); ``url`` is what connects."""

    def __init__(self, url: str) -> None:
        url = url.strip()
        scheme, sep, rest = url.partition("://")
        # libpq reads only a lower-case scheme; any other spelling would be read as "key=value" text.
        self.url = scheme.lower() + sep + rest
        secret = secret_parameters()
        if rest.split("/", 1)[0].split("?", 1)[0].count("@") > 1:
            # libpq would take what follows the first @ for the host, showing a password's tail in it.
            raise DatabaseError(
                f"The PostgreSQL URL {self._redact_unread()} cannot be read (an @ in its user name or "
                "password must be written %40): give postgresql://user@host:port/database."
            )
        try:
            params = _parse(self.url)
        except Exception as exc:  # noqa: BLE001 - libpq's ProgrammingError, or the fallback's ValueError
            raise DatabaseError(
                f"The PostgreSQL URL {self._redact_unread()} cannot be read ({_first_line(exc, self.url)}): "
                "give postgresql://user@host:port/database."
            ) from None
        self.secrets = tuple(v for k, v in params.items() if k in secret and v)
        self.user = params.get("user", "")
        self.host = params.get("host") or "localhost"
        port = params.get("port") or ""
        self.port: int | str | None = int(port) if port.isdigit() else (port or None)
        self.database = params.get("dbname") or self.user
        self.shown = _rebuild(params, secret)
        if any(not (p.isdigit() and 0 < int(p) < 65536) for p in port.split(",") if p):
            # libpq reads any port text and refuses it only when connecting: say it now, as one sentence.
            raise DatabaseError(
                f"The PostgreSQL URL {self.shown} cannot be read (its port {port!r} is not a number "
                "from 1 to 65535): give postgresql://user@host:port/database."
            )

    def _redact_unread(self) -> str:
        """A URL libpq could not read, as far as it can be shown: its scheme and host, no more."""
        scheme, _, rest = self.url.partition("://")
        host = rest.split("?", 1)[0].split("/", 1)[0].rpartition("@")[2]
        return f"{scheme}://{HIDDEN}@{host}/{HIDDEN}" if host else f"{scheme}://{HIDDEN}"

    def scrub(self, text: str) -> str:
        """``text`` (a driver's message) with this URL's secrets, raw or percent-encoded, hidden."""
        for value in sorted(self.secrets, key=len, reverse=True):
            for form in {value, quote(value, safe=""), quote(value)}:
                text = text.replace(form, HIDDEN)
        return _scrub_text(text, self.url)

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


def _first_line(exc: BaseException, url: str) -> str:
    lines = _scrub_text(str(exc), url).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__


def _scrub_text(text: str, url: str) -> str:
    """A driver's message that may quote the whole URL (libpq quotes text it cannot read): the URL
    goes, and with it anything it held."""
    return text.replace(url, HIDDEN) if url else text
