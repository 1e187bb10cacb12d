"""A user perspective that fails on purpose: it never returns."""
import time


def analyze(target):
    time.sleep(3600)
