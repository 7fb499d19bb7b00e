"""Pure domain logic: takes frames and geometries, returns new ones. No I/O, no web, no printing."""
