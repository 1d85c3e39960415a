"""The call log: one row per model call, written by ``store``, read by ``reader``, in SQLite
(``db``) or PostgreSQL (``pg``); its rollups, search, privacy rules and the import of paired outcomes.

Imports only the shared basics at the top of ``core``."""
