"""Autotrade Workstation core: everything that trades. Pure Python, no Qt."""

__version__ = "0.1.0"
