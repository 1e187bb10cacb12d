"""A user perspective that fails on purpose: it prints text instead of one JSON line."""
import os
import sys


def analyze(target):
    sys.stdout.write("this is not json\n")
    sys.stdout.flush()
    os._exit(0)
