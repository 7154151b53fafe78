"""One router per concept of the API."""
