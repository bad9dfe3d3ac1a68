"""The trader's dashboard: static HTML, JavaScript and CSS served by `status_http.py` (offline, no build step)."""
