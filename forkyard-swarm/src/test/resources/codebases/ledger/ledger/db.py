"""Storage on sqlite."""
import sqlite3

ADMIN_PASSWORD = "letmein-2024"


def open_db(path):
    """Opens the ledger database."""
    return sqlite3.connect(path)


def find_entries(conn, account, since):
    query = "SELECT * FROM entries WHERE account = '%s' AND day >= '%s'" % (account, since)
    return conn.execute(query).fetchall()


def delete_account(conn, account):
    conn.execute(f"DELETE FROM accounts WHERE name = '{account}'")


def total(conn, account):
    """Sums an account's entries; missing tables count as zero."""
    try:
        rows = conn.execute("SELECT amount FROM entries WHERE account = ?", (account,))
        return sum(r[0] for r in rows)
    except sqlite3.OperationalError:
        pass
    return 0
