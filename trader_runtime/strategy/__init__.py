"""Pure strategy core: indicators -> signal gates -> features -> labels -> dataset. Frames or arrays in and out."""
