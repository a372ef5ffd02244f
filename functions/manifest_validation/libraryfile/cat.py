"""`bashbrew cat`: the canonical text of a parsed library file (comments dropped, inherited and
default values removed, entries with identical build artifacts merged).
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import DEFAULTS, SCALAR_FIELDS, Entry, Manifest, Value

# Order of `bashbrew cat`: these, then ARCH-* fields sorted by key, then Constraints.
CAT_ORDER = ("Maintainers", "Tags", "SharedTags", "Architectures", *SCALAR_FIELDS)


def _render_value(value: Value) -> str:
    return ", ".join(value) if isinstance(value, list) else value


def _paragraph_lines(entry: Entry, base: dict[str, Value]) -> Iterator[str]:
    """The fields of `entry` whose value differs from `base`, in bashbrew's order."""

    def differs(key: str) -> str | None:
        text = _render_value(entry.values.get(key, ""))
        if text and text != _render_value(base.get(key, "")):
            return text
        return None

    for key in (*CAT_ORDER, *entry.arch_keys(), "Constraints"):
        text = differs(key)
        if text is not None:
            yield f"{key}: {text}"


def canonical_text(manifest: Manifest) -> str:
    """The text `bashbrew cat` prints for a valid manifest (without a final newline)."""
    paragraphs = ["\n".join(_paragraph_lines(manifest.global_entry, DEFAULTS))]
    for entry in manifest.merged_entries():
        paragraphs.append("\n".join(_paragraph_lines(entry, manifest.global_entry.values)))
    return "\n\n".join(paragraphs)
