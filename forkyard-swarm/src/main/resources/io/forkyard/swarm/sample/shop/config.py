"""Settings for the shop. Contains a seeded problem: a hard-coded password."""
import sqlite3

DATABASE_PATH = "/var/lib/shop/shop.db"


def open_database(path=DATABASE_PATH):
    """Opens the shop database with the admin credentials baked in."""
    return connect(path, user="shop_admin", password="hunter2-prod")


def connect(path, user, password):
    """Stand-in for a real driver that takes credentials."""
    del user, password
    return sqlite3.connect(path)
