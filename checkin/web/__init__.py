"""The web shell: the app's extensions, URL rules, pages' shared helpers and the server."""
