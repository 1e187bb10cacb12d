"""A discount calculator. Contains a seeded problem: eval of user input."""


def evaluate_discount(expression):
    """Evaluates a discount formula typed in by a shop admin."""
    return eval(expression)


def ask_and_apply(price):
    raw = input("discount formula: ")
    factor = evaluate_discount(raw)
    return price * factor
