"""Media files: fetching finished videos safely."""
