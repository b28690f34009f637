"""newsclean: clean and enrich a newsroom's Kafka feed of IPTC ninjs articles."""

__version__ = "0.1.0"
