"""Moving live blogs in and out: the export document, and imports from it, from WordPress
exports (WXR) and from plain-text articles. No Flask.

Every import goes through ``importer.import_blog``, whatever the file: the sources here
only read their format into the parts of an export document.
"""
