"""The scan modules export exactly the names other parts are meant to use."""

from __future__ import annotations

import bot.checks.licenses as licenses
import bot.checks.secrets as secrets


def test_exported_names() -> None:
    assert sorted(secrets.__all__) == [
        "BASELINE_PATH",
        "Baseline",
        "PRAGMA",
        "RULE_IDS",
        "SecretHit",
        "SecretsChecker",
        "SecretsOptions",
        "fingerprint",
        "load_baseline",
        "looks_placeholder",
        "scan_text",
        "shannon_entropy",
    ]
    assert sorted(licenses.__all__) == [
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
    for module in (secrets, licenses):
        assert all(hasattr(module, name) for name in module.__all__)
    assert (secrets.SecretsChecker.name, licenses.LicenseChecker.name) == ("secrets", "licenses")
    assert secrets.SecretsChecker.version.startswith("1.")
    assert licenses.LicenseChecker.version.startswith("1.")
