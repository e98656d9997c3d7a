"""HTTP adapters: TMF621 (v4, v5) with the TMF630 query rules and the single error table."""
