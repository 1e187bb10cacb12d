"""A tiny status endpoint and a rate fetcher."""
import socket
import urllib.request


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", port))
    s.listen(5)
    return s


def fetch_rate(url):
    with urllib.request.urlopen(url) as r:
        return float(r.read())


def scratch_file():
    return open("/tmp/ledger-scratch.txt", "w")
