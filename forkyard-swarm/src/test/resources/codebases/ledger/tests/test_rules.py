"""Tests of the rule engine."""
from ledger.rules import RuleEngine, normalize


def test_normalize_rounds_to_cents():
    assert normalize(1.005) in (1.0, 1.01)


def test_explain_without_rules():
    assert RuleEngine([]).explain("food") == "no rule"
