"""Department feeds: mappings (YAML), readers, cleaning and load reports."""
