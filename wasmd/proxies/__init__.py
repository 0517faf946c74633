"""Configuration generators that put wasmd behind a proxy (``wasmd <proxy>-config``)."""
