"""The upscaling path: backends, tiling, one image, a folder."""
