"""Rule-based entity extractors; each works on aligned-normalised text, so offsets are original."""
