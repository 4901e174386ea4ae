"""Every rule's embedded examples are tests; rule metadata is validated at definition."""

from __future__ import annotations

import pytest

from dockermig.registry import all_rules, rule_by_key
from dockermig.rule import Example, Rule, Severity
from dockermig.testing import check_example

CASES = [(rule, i, example) for rule in all_rules() for i, example in enumerate(rule.examples)]


@pytest.mark.parametrize("rule, index, example", CASES, ids=[f"{r.code}-{i}" for r, i, _ in CASES])
def test_rule_example(rule, index, example):
    assert check_example(rule, example) == []


def test_codes_and_names_are_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
    assert {r.code[:3] for r in rules} >= {"DM1", "DM2", "DM3"}


def test_lookup_by_code_name_and_case():
    assert rule_by_key("dm201").code == "DM201"
    assert rule_by_key("root-user").code == "DM201"
    assert rule_by_key("nope") is None


def _define(**attributes):
    doc = attributes.pop("doc", "Summary.\n\n## What it does\nx\n\n## Why is this bad?\ny\n")
    namespace = {"__doc__": doc, "__module__": "tests.fake", **attributes}
    return type("Fake", (Rule,), namespace)


GOOD = dict(code="DM999", name="fake-rule", severity=Severity.INFO,
            examples=[Example.valid("FROM x\n"), Example.invalid("FROM y\n")])


def test_a_well_formed_rule_is_accepted():
    assert _define(**GOOD).summary() == "Summary."


@pytest.mark.parametrize(
    "change, error",
    [
        ({"code": "X1"}, "is not DM \\+ 3 digits"),
        ({"name": "Not_Kebab"}, "kebab-case"),
        ({"examples": [Example.valid("FROM x\n")]}, "one valid and one invalid"),
        ({"doc": "Summary.\n\n## Why is this bad?\ny\n"}, "lacks the section '## What it does'"),
        ({"doc": "Summary.\n\n## Why is this bad?\ny\n\n## What it does\nx\n"}, "out of order"),
        ({"doc": "Summary.\n\n## What it does\nx\n\n## Why is this bad?\ny\n\n## Example\nz\n"}, "unknown docstring section"),
        ({"options": {"x": 1}}, "'## Configuration'"),
    ],
)
def test_malformed_rules_fail_at_definition(change, error):
    with pytest.raises(TypeError, match=error):
        _define(**{**GOOD, **change})
