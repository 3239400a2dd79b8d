"""Maintenance windows: planned quiet, in which alerts from a team's machines open incidents that page nobody."""
