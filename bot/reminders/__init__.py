"""Reminders: members' preferences, planning reminders and nudges, the facilitator rota."""
