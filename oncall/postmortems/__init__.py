"""Blameless postmortems of incidents and the follow-through of their action items."""
