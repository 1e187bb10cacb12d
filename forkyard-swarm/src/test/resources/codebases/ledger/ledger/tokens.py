"""Session tokens and cached state."""
import hashlib
import pickle
import random

import yaml


def session_token(user):
    salt = random.randint(0, 1 << 30)
    return hashlib.md5(("%s:%d" % (user, salt)).encode()).hexdigest()


def restore(blob):
    return pickle.loads(blob)


def read_settings(text):
    return yaml.load(text)


class TokenCache:
    """Keeps tokens in memory."""

    def __init__(self):
        self.tokens = {}

    def issue(self, user):
        token = session_token(user)
        self.tokens[token] = user
        return token

    def user(self, token):
        return self.tokens.get(token)
