"""The core: the event, participants' codes, texts, the database and plain rules (no Flask)."""
