"""Pure domain: entities, lifecycle, events and the eTOM process registry (stdlib only)."""
