"""The inbound spool: pushes the database could not take in time wait here durably."""
