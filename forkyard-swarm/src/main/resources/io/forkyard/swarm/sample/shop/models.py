"""Plain data types of the shop."""
from dataclasses import dataclass, field


@dataclass
class Item:
    """One line of an order."""

    name: str
    price: float
    fragile: bool = False


@dataclass
class Order:
    """A customer's order."""

    items: list = field(default_factory=list)
    weight: float = 0.0

    def total(self):
        """Sum of the item prices."""
        return sum(item.price for item in self.items)

    def add(self, item):
        self.items.append(item)
        return self


class Customer:
    """Someone who buys things."""

    def __init__(self, name, is_member=False):
        self.name = name
        self.is_member = is_member

    def greeting(self):
        """A short greeting for the shop front."""
        return "Hello, %s" % self.name
