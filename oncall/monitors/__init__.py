"""Heartbeat monitors: dead-man's switches for whatever must keep talking (a cron job, Alertmanager's Watchdog)."""
