"""Organiser accounts: the one-time setup link, sign-in and sign-out."""
