"""Proactive care: greetings, points reminders, campaigns and after-sales surveys."""
