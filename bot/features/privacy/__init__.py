"""Members' rights: export, erasure, privacy requests, consents, the WeChat unsubscribe rule."""
