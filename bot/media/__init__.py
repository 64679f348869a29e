"""Media files: fetching finished videos safely, and making them ready to upload."""
