"""Exports: signed archives and XML statements."""
import subprocess
import xml.etree.ElementTree as ET


def sign(path):
    """Signs an export with the system's gpg."""
    return subprocess.Popen(["gpg", "--detach-sign", path]).wait()


def statement_total(path):
    tree = ET.parse(path)
    return sum(float(e.text) for e in tree.iter("amount"))
