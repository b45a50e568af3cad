"""Cameras: the TCP frame stream (`client`, parsed by `protocol`), a watched folder (`folder`).

`drivers.camera.vision` decodes and grades the images these sources deliver.
"""
