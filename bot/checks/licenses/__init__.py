"""The license scan: SPDX headers, LICENSE/COPYING texts and dependency licenses against a policy.

Offline and fast: expressions are parsed with ``license-expression``'s SPDX licensing, license
files are matched against a few bundled canonical texts and distinctive phrases, and dependency
licenses come only from metadata already in the tree. Whatever cannot be established is
reported as unknown, never guessed.
"""

from __future__ import annotations

from bot.checks.licenses._checker import LicenseChecker
from bot.checks.licenses._data import DEFAULT_LICENSE_FILES
from bot.checks.licenses._policy import (
    LicenseOptions,
    LicensePolicy,
    ParsedExpression,
    Status,
    parse_spdx,
)
from bot.checks.licenses._texts import Identified, identify_license_text, is_license_file

__all__ = [
    "DEFAULT_LICENSE_FILES",
    "Identified",
    "LicenseChecker",
    "LicenseOptions",
    "LicensePolicy",
    "ParsedExpression",
    "Status",
    "identify_license_text",
    "is_license_file",
    "parse_spdx",
]
