"""The HTTP API, the investigator page and the command line."""
