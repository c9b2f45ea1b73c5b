"""Embeds: what an entry quotes or shows from elsewhere, and the one way out to the web.

- ``providers``: the social and video sites we recognise by their URLs, their players.
- ``widgets``: the providers' own scripts, for blogs that opt in, and their CSP origins.
- ``fetch``: the guarded fetcher, the one place outbound HTTP is made.
- ``snapshot``: an oEmbed answer read into a ``social`` or ``video`` block.
- ``resolver``: a link looked up through its provider, with a cache of recent look-ups.
- ``uploads`` (Pillow) and ``images`` (URL shapes only): uploaded images and their sizes.
"""
