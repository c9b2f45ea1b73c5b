"""The WSGI entry point for any server: ``gunicorn wsgi:app``."""

from liveblog import create_app

app = create_app()
