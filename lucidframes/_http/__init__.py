"""The one way out to the network (private): transport, classification, retries, limits, auth, URLs, events."""
