"""Linking channel identities to members: one-time codes, their senders, bind/unbind records."""
