"""One router per resource; :func:`shopmind.serve.app.create_app` mounts them all."""
