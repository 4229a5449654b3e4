"""HTTP routes, one module per area; they only wire the stages together."""
