"""A small bookkeeping package: a second code base for the swarm's agreement tests.

Its problems differ from the bundled sample's: unsafe deserialisation (pickle, yaml), an
insecure hash and PRNG for tokens, a URL opener, XML parsed with the standard library, a
subprocess, a file that does not parse, and a rule engine with one deeply nested method.
It also builds SQL from strings and keeps a secret in a module constant, which Debian's
bandit 1.6.2 does not see on Python 3.8+ (its string checks predate ast.Constant); the
swarm must agree with bandit either way.
"""

VERSION = "0.3"
