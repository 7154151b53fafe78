"""creditlink's domain: model, identifiers, resolution, stores and propagation."""
