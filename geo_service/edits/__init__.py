"""The one write path of each object staff edit by hand: validate → check the version →
write → history → audit, in the caller's transaction (API, console and CLI call the same)."""
