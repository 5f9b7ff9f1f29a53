"""Participants: the list, its CSV import and export, search, and the organisers' pages."""
