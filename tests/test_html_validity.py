"""Pages are valid HTML according to the Nu HTML checker (vnu.jar, run on Java)."""

import io

import pytest

from tests.factories import open_blog
from tests.fakes import image_bytes
from tests.support import check
from tests.support import needs_vnu

pytestmark = needs_vnu


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reader_pages_have_no_html_errors(demo_app, api, tmp_path):
    client = demo_app.test_client()
    photo = api.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(image_bytes((1200, 800), "JPEG")), "photo.jpg")},
        content_type="multipart/form-data",
    ).get_json()
    profile = {
        "name": "Lina <Haddad> & co",
        "title": 'Middle East "correspondent"',
        "bio": "Covers Syria.\n\nBased in <Beirut>.",
        "links": ["https://example.org/lina?a=1&b=2"],
        "slug": "lina",
        "photo": {"url": photo["url"], "alt": "Lina, smiling"},
    }
    assert api.patch("/api/v1/users/me", json=profile).status_code == 200
    colleague = api.as_role("contributor", name="Sami")
    api.post_entry(
        authors=[api.user.id, colleague.user.id],
        headline='Every block <b>&</b> "quotes" عاجل',
        blocks=[
            {
                "type": "text",
                "markdown": "Text with a [link](https://example.org) and <script>x</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |",
            },
            {
                "type": "social",
                "url": "https://bsky.app/profile/a.bsky.social/post/3k",
                "author_name": "A",
                "author_handle": "@a",
                "text": "Said <this>",
                "posted_at": "2017-03-24T07:00:00Z",
                "media": [
                    {"url": "https://example.org/a.jpg", "alt": "A photo"},
                    {"url": photo["url"], "alt": "A photo kept here"},
                ],
            },
            {
                "type": "map",
                "center": {"lat": 35.2, "lon": 36.7},
                "markers": [{"lat": 35.2, "lon": 36.7, "label": "Hama"}],
                "geojson": {
                    "type": "Feature",
                    "properties": {"name": "Front 'line' <b>&</b>"},
                    "geometry": {"type": "LineString", "coordinates": [[36.7, 35.2], [36.8, 35.3]]},
                },
                "image": {"url": "/media/map.png", "alt": "Map"},
                "caption": "Map",
                "credit": "OSM",
            },
            {"type": "map", "center": {"lat": 35.2, "lon": 36.7}, "zoom": 3},
            {
                "type": "image",
                "url": "https://example.org/p.jpg",
                "alt": "Photo",
                "caption": "Caption",
                "credit": "Credit",
                "width": 800,
                "height": 600,
            },
            {
                "type": "image",
                "url": photo["url"],
                "alt": "Uploaded photo",
                "width": photo["width"],
                "height": photo["height"],
            },
            {
                "type": "video",
                "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                "caption": "Video",
            },
            {
                "type": "video",
                "url": "https://vimeo.com/123456789",
                "title": "A <title> & more",
                "poster": {"url": photo["url"], "width": 1200, "height": 800},
            },
        ],
    )
    open_blog(api, slug="widgets", title="Widgets", status="live", embed_widgets=True)
    api.post_entry(
        blog="widgets",
        blocks=[{"type": "social", "url": "https://x.com/someone/status/1", "text": "Quoted"}],
    )
    toll = api.post_entry(headline="Toll", body="Ten <b>people</b> killed.\n\nIn *Hama*.")
    toll = api.edit_entry(
        toll, body="Twelve killed.\n\nIn *Hama*.", correction="Toll <b>&</b>"
    ).get_json()
    api.edit_entry(toll, correction='Second "note"')
    deleted = api.post_entry(body="Retracted")
    api.delete(f"/api/v1/blogs/hama/entries/{deleted['id']}", headers={"If-Match": '"1"'})
    api.as_role("admin").post(
        "/api/v1/blogs",
        json={"slug": "ticker", "title": "Ticker", "theme": "ticker", "status": "live"},
    )
    admin = api.as_role("admin")
    admin.post("/api/v1/blogs", json={"slug": "removed", "title": "Removed", "status": "live"})
    etag = admin.get("/api/v1/blogs/removed").headers["ETag"]
    admin.delete("/api/v1/blogs/removed", headers={"If-Match": etag})
    open_blog(api, slug="ended", title="Ended", status="live")
    for hour in range(3):
        api.post_entry(
            blog="ended", headline=f"Hour {hour}", published_at=f"2017-03-24T0{hour}:00:00Z"
        )
    admin.patch("/api/v1/blogs/ended", json={"status": "ended", "ended_order": "oldest"})
    pages = {
        "index": "/",
        "live": "/syria-hama-offensive/",
        "permalink": "/syria-hama-offensive/updates/3",
        "permalink-pinned": "/syria-hama-offensive/updates/1",
        "live-oldest": "/syria-hama-offensive/?order=oldest",
        "ended": "/ended/",
        "ended-newest": "/ended/?order=newest",
        "bad-order": "/ended/?order=sideways",
        "every-block": "/hama/",
        "gone": f"/hama/updates/{deleted['id']}",
        "history": f"/hama/updates/{toll['id']}/history",
        "corrected": f"/hama/updates/{toll['id']}",
        "ticker": "/ticker/",
        "widgets": "/widgets/",
        "not-found": "/no-such-blog/",
        "embed": "/syria-hama-offensive/embed",
        "embed-every-block": "/hama/embed",
        "teaser": "/syria-hama-offensive/embed?teaser=5",
        "card": "/syria-hama-offensive/embed?update=3",
        "card-gone": f"/hama/embed?update={deleted['id']}",
        "author": "/authors/lina",
        "author-without-profile": f"/authors/{colleague.user.id}",
        "author-not-found": "/authors/nobody",
        "blog-gone": "/removed/",
    }
    files = []
    for name, path in pages.items():
        target = tmp_path / f"{name}.html"
        target.write_bytes(client.get(path).data)
        files.append(target)
    # What a host page gets from our oEmbed answer, in a page of its own.
    answer = client.get(
        "/oembed", query_string={"url": "https://news.example/syria-hama-offensive/updates/3"}
    ).get_json()
    host = tmp_path / "oembed-host.html"
    host.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head>'
        f"<body>{answer['html']}</body></html>"
    )
    files.append(host)
    errors = check(files)
    assert errors == [], "\n".join(errors)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_arabic_and_french_pages_have_no_html_errors(client, api, tmp_path):
    files = []
    for language, title in (("ar", "هجوم حماة"), ("fr", "Offensive sur Hama")):
        slug = f"hama-{language}"
        open_blog(api, slug=slug, title=title, status="live", language=language)
        api.post_entry(blog=slug, body="Première.", pinned=True, key_event=True)
        edited = api.post_entry(
            blog=slug,
            headline="عاجل",
            blocks=[
                {"type": "social", "url": "https://x.com/a/status/1", "text": "قصف"},
                {"type": "map", "center": {"lat": 35.2, "lon": 36.7}, "zoom": 3},
                {"type": "video", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
            ],
        )
        assert api.edit_entry(edited, body="تصحيح.").status_code == 200
        deleted = api.post_entry(blog=slug, body="Retirée.")
        api.delete(f"/api/v1/blogs/{slug}/entries/{deleted['id']}", headers={"If-Match": '"1"'})
        pages = {
            "live": f"/{slug}/",
            "permalink": f"/{slug}/updates/{edited['id']}",
            "gone": f"/{slug}/updates/{deleted['id']}",
            "embed": f"/{slug}/embed",
            "teaser": f"/{slug}/embed?teaser=5",
            "card": f"/{slug}/embed?update={edited['id']}",
            "card-gone": f"/{slug}/embed?update={deleted['id']}",
        }
        for name, path in pages.items():
            target = tmp_path / f"{language}-{name}.html"
            target.write_bytes(client.get(path).data)
            files.append(target)
    errors = check(files)
    assert errors == [], "\n".join(errors)
