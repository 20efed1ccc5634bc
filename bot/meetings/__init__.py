"""Meetings: recurrence rules, series and their one-off changes, RSVPs, calendars."""
