"""HTTPS on the local network: a small kept certificate authority and its server certificate."""
