"""extract: see DESIGN.md, Service."""
