"""What the Models API reports about a model, read once with a real key and cached in the data
folder, as a layer of the capability table between the bundled facts and the settings.

``GET /v1/models/{model_id}`` (``client.models.retrieve``) answers a ``ModelInfo``
(https://platform.claude.com/docs/en/api/cli/models/retrieve): ``max_input_tokens`` and
``capabilities`` whose entries each say ``supported``: ``structured_outputs``, ``effort`` (with
``low`` .. ``max``), ``thinking.types`` (``adaptive``, ``enabled``, ``disabled``,
``between_tools``). Those become ``structured_outputs``, ``effort_levels``, ``thinking_types`` and
``context_window``; what it does not report (forced tool choice, sampling parameters, the default
thinking type and effort, the minimum cacheable prompt) stays the bundled table's.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..location import PRIVATE_FILE_MODE, make_private_folders
from .models import EFFORT_LEVELS, THINKING_TYPES

CACHE_FILE = "models_api.json"
DEFAULT_BASE_URL = "https://api.anthropic.com"
MAX_AGE_S = 7 * 86_400  # a cached entry is read again after a week (a model's capabilities can change)
_log = logging.getLogger("routermon")
_warned_unwritable: set[str] = set()  # caches said to be unwritable, once per process each


def cache_key(base_url: str) -> str:
    """The API address a cache entry is kept under: scheme, host, port and path, never the
    credentials, query or fragment a base URL may carry (``http://user:TOKEN@host`` is ``http://host``)."""
    try:
        parts = urlsplit(base_url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "unreadable base URL"  # nothing of it is kept: it may be all secret
    host = f"[{host}]" if ":" in host else host
    return urlunsplit(
        (parts.scheme.lower(), host + (f":{port}" if port else ""), parts.path.rstrip("/"), "", "")
    )


def fields_from_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """``ModelCapabilities`` fields from one ``ModelInfo`` (as JSON); only what it reports."""
    fields: dict[str, Any] = {}
    caps = info.get("capabilities") or {}

    def supported(entry: Any) -> bool | None:
        return entry.get("supported") if isinstance(entry, Mapping) else None

    if supported(caps.get("structured_outputs")) is not None:
        fields["structured_outputs"] = bool(supported(caps["structured_outputs"]))
    effort = caps.get("effort")
    if supported(effort) is not None:
        fields["effort_levels"] = (
            [level for level in EFFORT_LEVELS if supported(effort.get(level))] if supported(effort) else []
        )
    types = (caps.get("thinking") or {}).get("types")
    if isinstance(types, Mapping):
        fields["thinking_types"] = [kind for kind in THINKING_TYPES if supported(types.get(kind))]
    if isinstance(info.get("max_input_tokens"), int):
        fields["context_window"] = info["max_input_tokens"]
    return fields


class ModelsAPICache:
    """``ModelInfo`` per model, as the Models API last reported it, in one JSON file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # no cache yet, or a damaged one: read the API again
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict[str, Any]) -> bool:
        """Write the cache (0600, in folders made 0700); ``False``, with one warning, when it cannot be
        written (a read-only home, a file where the data folder should be)."""
        tmp = None
        try:
            make_private_folders(self.path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # 0600
            os.fchmod(fd, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(data, indent=1, sort_keys=True))
            os.replace(tmp, self.path)  # atomic: a reader sees the old file or the new one
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            if str(self.path) in _warned_unwritable:
                return False
            _warned_unwritable.add(str(self.path))
            _log.warning(
                "routermon: the Models API cache %s cannot be written (%s); the bundled model table stays in force.",
                self.path,
                exc.strerror or exc,
            )
            return False
        return True

    def reported(
        self,
        models: Iterable[str],
        client: Any = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        now: float | None = None,
    ) -> dict[str, dict]:
        """Table fields per model: from the cache, reading a model the cache lacks (or holds for
        longer than ``MAX_AGE_S``) with ``client.models.retrieve`` when a sync ``client`` is given.

        A model the API cannot tell about (an error, no network) is left out, and asked again next time.
        Entries are kept per ``base_url`` (without its credentials: ``cache_key``), so a stand-in's
        answers never stand for the real API's. A cache that cannot be written leaves the bundled
        table in force, as an unreachable API does, with one warning.
        """
        now = time.time() if now is None else now
        base_url = cache_key(base_url)
        everything = self._load()
        data = everything.setdefault(base_url, {})
        if not isinstance(data, dict):
            data = everything[base_url] = {}
        changed = False
        for model in models:
            entry = data.get(model)
            fresh = isinstance(entry, dict) and now - entry.get("fetched_at", 0) < MAX_AGE_S
            if fresh or client is None:
                continue
            try:
                info = client.models.retrieve(model)
            except Exception:  # noqa: BLE001 - any failure leaves the bundled facts in force
                continue
            data[model] = {"fetched_at": now, "info": info.model_dump(mode="json")}
            changed = True
        if changed and not self._save(everything):
            return {}  # as an unreachable API: the bundled facts, and asked again next time
        return {
            model: fields_from_info(entry.get("info") or {})
            for model, entry in data.items()
            if isinstance(entry, dict)
        }
