"""The secrets checker's rule table and word lists are a data file, validated when it loads:
a broken rule is refused with the rule and key named, and the table in use is the file's."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.checks import secrets

RAW: dict[str, Any] = yaml.safe_load(secrets._DATA_BYTES)


def _with_rule(**changes: Any) -> dict[str, Any]:
    rules = [dict(RAW["rules"][0], **changes), *RAW["rules"][1:]]
    return {**RAW, "rules": rules}


def test_the_rules_in_use_are_the_data_files() -> None:
    assert [r.id for r in secrets._RULES] == [r["id"] for r in RAW["rules"]]
    assert secrets.RULE_IDS[-1] == "generic-secret-assignment"
    # Every regex is compiled once, when the module loads.
    assert len(secrets._COMPILED) == len(secrets._RULES)
    assert all(regex.pattern == rule.pattern for rule, regex, _ in secrets._COMPILED)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pattern": "(unclosed"}, "rules.0.pattern"),
        ({"refine": "nope"}, "no such refine step 'nope'"),
        ({"refine": "high-entropy"}, "needs a min_entropy"),
        ({"keywords": ["UPPER"]}, "lowercase"),
        ({"severity": "dire"}, "rules.0.severity"),
        ({"typo": 1}, "rules.0.typo"),
    ],
)
def test_a_broken_rule_is_refused_naming_it(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        secrets._SecretData.model_validate(_with_rule(**changes))
    assert message in str(info.value)


def test_an_unknown_word_list_or_contextual_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"words\.extra"):
        secrets._SecretData.model_validate({**RAW, "words": {**RAW["words"], "extra": []}})
    words = {**RAW["words"], "contextual_rules": ["no-such-rule"]}
    with pytest.raises(ValidationError, match="no such rule 'no-such-rule'"):
        secrets._SecretData.model_validate({**RAW, "words": words})
