"""Continuity: backups, one server per event, replication, restore, faults with a clear answer."""
