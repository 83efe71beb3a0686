"""Fixtures of the evidence tests (defined in ``evidence_helpers``)."""

from __future__ import annotations

from evidence_helpers import keys, signed, signed_once

__all__ = ["keys", "signed", "signed_once"]
