"""ISO 3166-1 country codes for any survey's files and users (alpha-3, alpha-2, numeric, English
names). The table ships with the WVS-7 package; modules outside ``survey/`` reach it here."""

from __future__ import annotations

from .wvs7.countries import alpha3_for, alpha3_name

__all__ = ["alpha3_for", "alpha3_name"]
