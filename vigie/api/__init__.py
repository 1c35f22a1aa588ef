"""The HTTP API and the web page of Vigie (`vigie api`; `vigie up` starts it).

``vigie.api.app.create_app(settings)`` builds the FastAPI application: one router per resource under
``vigie/api/routes/``, the static page under ``vigie/api/static/``. Importing this package imports no
web framework: `vigie up` reads the token (``vigie.api.token``) without loading FastAPI.
"""
