"""Security controls: permissions, rate limits, HTTP headers, log masking, key rotation."""
