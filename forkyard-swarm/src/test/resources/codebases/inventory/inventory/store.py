import hashlib
import pickle
import random
import tempfile


class Store:
    def __init__(self, path):
        self.path = path
        self.items = {}

    def load(self):
        with open(self.path, "rb") as f:
            self.items = pickle.load(f)

    def token(self):
        return hashlib.md5(str(random.random()).encode()).hexdigest()

    def scratch(self):
        return tempfile.mktemp()

    def classify(self, item, stock, season, vip):
        if stock <= 0:
            return "out"
        if item.startswith("x") and vip:
            return "rare"
        for s in ("spring", "summer", "autumn", "winter"):
            if season == s and stock > 10:
                return s
            elif season == s and stock > 5:
                return s + "-low"
        while stock > 100:
            stock -= 100
            if stock % 7 == 0:
                break
        try:
            return "ok" if stock else "none"
        except Exception:
            pass
