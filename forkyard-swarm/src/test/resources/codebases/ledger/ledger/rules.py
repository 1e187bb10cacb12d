"""Categorisation rules."""


class RuleEngine:
    """Assigns categories to ledger entries."""

    def __init__(self, rules):
        self.rules = rules

    def categorize(self, entry, account, strict):
        if entry.amount == 0:
            return None
        for rule in self.rules:
            if rule.account and rule.account != account:
                continue
            if rule.min_amount is not None and entry.amount < rule.min_amount:
                continue
            if rule.max_amount is not None and entry.amount > rule.max_amount:
                continue
            if rule.keywords:
                text = entry.text.lower()
                if any(k in text for k in rule.keywords):
                    return rule.category
                elif strict:
                    continue
            if rule.weekday is not None and entry.day.weekday() != rule.weekday:
                continue
            while rule.parent is not None and not rule.enabled:
                rule = rule.parent
            try:
                return rule.category or "misc"
            except AttributeError:
                continue
        return "uncategorized" if not strict else None  # TODO: let users name the fallback

    def explain(self, category):
        matching = [r for r in self.rules if r.category == category]
        return ", ".join(r.name for r in matching) or "no rule"


def normalize(amount):
    """Rounds to cents."""
    return round(amount, 2)


def make_filter(limit):
    def keep(entry):
        return entry.amount <= limit

    return keep
