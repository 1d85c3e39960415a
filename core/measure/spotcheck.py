"""Who says the cheap answer was right, and which pairs are spot-checked: the facts the pair table
and the judge check (``judge_check``) both read, below both of them.
"""

from __future__ import annotations

import hashlib

# The spot-check sample: a fixed share of pairs, chosen by a hash of the request id alone (so by
# nothing a person or the judge saw). The estimate and the agreement rest only on labels of pairs in
# it: labels a reviewer gave pairs chosen *because* they looked wrong are not a random sample, and
# prediction-powered inference needs one. Those labels still decide their own pairs' correctness.
SPOT_CHECK_SHARE = 0.1


SPOT_CHECKS = "spot checks"  # ``sample``'s default: the spot-check sample (``in_spot_check``)


def in_spot_check(request_id: str) -> bool:
    """Whether the pair of ``request_id`` is in the spot-check sample (``SPOT_CHECK_SHARE`` of pairs)."""
    digest = hashlib.sha256(b"routermon-spot-check:" + request_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8]) < SPOT_CHECK_SHARE * 2**64


def judge_says_cheap_right(verdict: str) -> bool:
    return verdict == "cheap_acceptable"


def human_says_cheap_right(label: str) -> bool:
    return label in ("cheap", "both")
