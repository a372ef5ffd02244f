"""`manifest-validate`, the command line door: one module per command group, `main` parses."""

from .main import main

__all__ = ["main"]
