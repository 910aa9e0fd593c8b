"""The one way out to the network (private): transport (the send loop), wire (one attempt), classification,
retries, limits, auth, URLs, events, downloads."""
