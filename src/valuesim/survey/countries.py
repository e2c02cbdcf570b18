"""ISO 3166-1 country codes for any survey's files and users (alpha-3, alpha-2, numeric, English
names), and how sentences name a country. The one country table ships with the WVS-7 package
(countries.csv); modules outside ``survey/`` reach it here."""

from __future__ import annotations

from .wvs7.countries import alpha3_for, alpha3_name
from .wvs7.countries import sentence_name as country_name

__all__ = ["alpha3_for", "alpha3_name", "country_name"]
