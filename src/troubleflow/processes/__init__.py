"""eTOM processes as use-case functions; each owns exactly one transaction."""
