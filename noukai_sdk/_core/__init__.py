"""Sans-IO protocols and their types: no I/O, no HTTP library, no shell or feature imports."""
