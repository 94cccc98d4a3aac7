"""The agent console: login, queue, conversations, replies, supervision, administration."""
