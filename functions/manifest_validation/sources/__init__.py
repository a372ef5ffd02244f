"""The publisher's format: docker-library/meta-scripts' `sources.json` for the library files
given (grouping by build context, bashbrew's build order, parents and pins). Pure: what was
read upstream comes in as `ArchBuild`s; nothing here touches the network."""

from __future__ import annotations

from .document import PROVISIONAL, Document, build_document, provisional_key
from .model import ArchBuild, Builds, Image

__all__ = [
    "PROVISIONAL",
    "ArchBuild",
    "Builds",
    "Document",
    "Image",
    "build_document",
    "provisional_key",
]
