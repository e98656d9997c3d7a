"""RFC 7386 JSON Merge Patch: objects merge key by key, `null` deletes, anything else replaces.

Written here rather than imported: the one PyPI package for it (json-merge-patch 0.3, 2020) is
unmaintained and mutates its input; the RFC's algorithm is the ten lines below.
"""

from __future__ import annotations

from typing import Any


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """Return `target` with `patch` applied (neither argument is modified)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result
