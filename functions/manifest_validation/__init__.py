"""Validate Docker Official Images library definition files the way bashbrew reads them."""

__version__ = "0.1.0"
