"""Single-step commands and callbacks, the access gate and the error handler."""
