"""A user perspective that fails on purpose: its analysis raises."""


def analyze(target):
    raise RuntimeError("deliberate crash in the crash perspective")
