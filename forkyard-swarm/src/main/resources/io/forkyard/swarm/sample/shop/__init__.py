"""A tiny web shop back end used as the bundled forkyard swarm sample."""
