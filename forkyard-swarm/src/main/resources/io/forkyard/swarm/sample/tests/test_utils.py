"""Tests for shop.utils."""
from shop.utils import chunked, slugify


def test_slugify_joins_words():
    assert slugify("Hello  Big World") == "hello-big-world"


def test_chunked_splits_evenly():
    assert chunked([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]


def test_chunked_keeps_remainder():
    assert chunked([1, 2, 3], 2) == [[1, 2], [3]]
