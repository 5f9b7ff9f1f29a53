"""Security and data protection: who may do what, sessions, private files, erasure."""
