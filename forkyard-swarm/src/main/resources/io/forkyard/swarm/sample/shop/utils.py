"""Small helpers."""


def slugify(text):
    """Lower-case words joined by dashes."""
    return "-".join(word for word in text.lower().split() if word)


def chunked(values, size):
    """Splits a list into lists of at most size elements."""
    if size < 1:
        raise ValueError("size must be positive")
    return [values[i : i + size] for i in range(0, len(values), size)]
