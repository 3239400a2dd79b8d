"""Structured shift handoffs and team watch items."""
