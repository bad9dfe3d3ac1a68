"""Definitions by concept, then kind (STYLE 2.1); `load_from_defs_folder` discovers everything here."""
