"""Scheduled jobs: anniversary posts, deadline reminders, due broadcasts (scheduler issue)."""
