"""Adapters to the event store: the sealing recorders of the audit chain and the schema set-up lock."""
