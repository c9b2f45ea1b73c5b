"""The content pipeline: Markdown -> safe HTML, and blocks through the default theme."""

import json
from textwrap import dedent

import pytest

from liveblog.blocks import validate_blocks
from liveblog.render import render_blocks
from liveblog.render import render_markdown
from liveblog.render import sanitize
from liveblog.themes import Themes
from tests.support import soup

# (id, Markdown source, expected HTML), in the spirit of Python-Markdown's assertMarkdownRenders.
MARKDOWN = [
    (
        "emphasis",
        "Rebels **advance** on _Qomhana_.",
        "<p>Rebels <strong>advance</strong> on <em>Qomhana</em>.</p>",
    ),
    (
        "paragraphs-and-line-break",
        """
        First paragraph,  
        same paragraph.

        Second paragraph.
        """,  # noqa: W291 (two trailing spaces are a Markdown line break)
        """
        <p>First paragraph,<br>
        same paragraph.</p>
        <p>Second paragraph.</p>
        """,
    ),
    (
        "link-with-title",
        '[SANA](https://sana.example/en "Syrian state news")',
        '<p><a href="https://sana.example/en" title="Syrian state news" rel="nofollow noopener">'
        "SANA</a></p>",
    ),
    (
        "bare-url-is-linked",
        "Source: https://example.org/report?id=1&lang=en today",
        '<p>Source: <a href="https://example.org/report?id=1&amp;lang=en" rel="nofollow noopener">'
        "https://example.org/report?id=1&amp;lang=en</a> today</p>",
    ),
    (
        "angle-bracket-autolink",
        "<https://example.org>",
        '<p><a href="https://example.org" rel="nofollow noopener">https://example.org</a></p>',
    ),
    (
        "headings-h1-becomes-h2",
        """
        # Breaking

        ## Background

        ###### Small print
        """,
        """
        <h2>Breaking</h2>
        <h2>Background</h2>
        <h6>Small print</h6>
        """,
    ),
    (
        "setext-h1-becomes-h2",
        """
        Breaking
        ========
        """,
        "<h2>Breaking</h2>",
    ),
    (
        "lists",
        """
        1. Kawkab
        2. Qomhana

        - Mhardeh
        - Hama
        """,
        """
        <ol>
        <li>Kawkab</li>
        <li>Qomhana</li>
        </ol>
        <ul>
        <li>Mhardeh</li>
        <li>Hama</li>
        </ul>
        """,
    ),
    (
        "blockquote",
        "> We have absorbed the attack.",
        """
        <blockquote>
        <p>We have absorbed the attack.</p>
        </blockquote>
        """,
    ),
    (
        "table",
        """
        | Town | Held by |
        |------|:-------:|
        | Kawkab | rebels |
        """,
        """
        <table>
        <thead>
        <tr>
        <th>Town</th>
        <th align="center">Held by</th>
        </tr>
        </thead>
        <tbody>
        <tr>
        <td>Kawkab</td>
        <td align="center">rebels</td>
        </tr>
        </tbody>
        </table>
        """,
    ),
    (
        "fenced-code-keeps-markup-and-urls-as-text",
        """
        ```
        <b>bold?</b> https://example.org
        ```
        """,
        """
        <pre><code>&lt;b&gt;bold?&lt;/b&gt; https://example.org
        </code></pre>
        """,
    ),
    (
        "inline-code",
        "Type `<script>` to see it.",
        "<p>Type <code>&lt;script&gt;</code> to see it.</p>",
    ),
    (
        "image",
        '![Rebel vehicles](https://example.org/a.png "Near Qomhana")',
        '<p><img alt="Rebel vehicles" src="https://example.org/a.png" title="Near Qomhana"></p>',
    ),
    (
        "rule-and-entities",
        """
        AT&T &amp; &copy; 5 < 6

        ---
        """,
        """
        <p>AT&amp;T &amp; &copy; 5 &lt; 6</p>
        <hr>
        """,
    ),
]

# Hostile input: nothing may come out that runs script, loads a frame or styles the page.
XSS = [
    (
        "script-tag-shown-as-text",
        "<script>alert(1)</script>",
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    ),
    (
        "script-block-shown-as-text",
        """
        <div>
        <script>alert(1)</script>
        </div>
        """,
        """
        <p>&lt;div&gt;
        &lt;script&gt;alert(1)&lt;/script&gt;
        &lt;/div&gt;</p>
        """,
    ),
    (
        "javascript-link-loses-href",
        "[click](javascript:alert(1))",
        '<p><a rel="nofollow noopener">click</a></p>',
    ),
    (
        "javascript-link-mixed-case",
        "[click](JaVaScRiPt:alert(1))",
        '<p><a rel="nofollow noopener">click</a></p>',
    ),
    (
        "javascript-link-with-entity",
        "[click](java&#x09;script:alert(1))",
        '<p><a rel="nofollow noopener">click</a></p>',
    ),
    (
        "javascript-reference-link",
        """
        [click][1]

        [1]: javascript:alert(1)
        """,
        '<p><a rel="nofollow noopener">click</a></p>',
    ),
    (
        "javascript-autolink-not-linked",
        "<javascript:alert(1)>",
        "<p>&lt;javascript:alert(1)&gt;</p>",
    ),
    (
        "javascript-text-not-linked",
        "javascript:alert(1)",
        "<p>javascript:alert(1)</p>",
    ),
    (
        "vbscript-link",
        "[click](vbscript:msgbox(1))",
        '<p><a rel="nofollow noopener">click</a></p>',
    ),
    (
        "raw-img-onerror-shown-as-text",
        "<img src=x onerror=alert(1)>",
        "<p>&lt;img src=x onerror=alert(1)&gt;</p>",
    ),
    (
        "inline-tag-with-handler-shown-as-text",
        'Hello <b onclick="alert(1)">there</b>',
        '<p>Hello &lt;b onclick="alert(1)"&gt;there&lt;/b&gt;</p>',
    ),
    (
        "image-alt-cannot-break-out",
        '![x" onerror="alert(1)](https://example.org/a.png)',
        '<p><img alt="x&quot; onerror=&quot;alert(1)" src="https://example.org/a.png"></p>',
    ),
    (
        "link-url-cannot-break-out",
        '[x](https://example.org/" onmouseover="alert(1))',
        '<p><a href="https://example.org/&quot; onmouseover=&quot;alert(1" '
        'rel="nofollow noopener">x</a>)</p>',
    ),
    (
        "bare-url-stops-at-quote",
        'https://example.org/"onmouseover=alert(1)',
        '<p><a href="https://example.org/" rel="nofollow noopener">https://example.org/</a>'
        '"onmouseover=alert(1)</p>',
    ),
    (
        "iframe-shown-as-text",
        '<iframe src="https://evil.example/"></iframe>',
        '<p>&lt;iframe src="https://evil.example/"&gt;&lt;/iframe&gt;</p>',
    ),
    (
        "style-attribute-shown-as-text",
        '<p style="position:fixed;top:0">Gotcha</p>',
        '<p>&lt;p style="position:fixed;top:0"&gt;Gotcha&lt;/p&gt;</p>',
    ),
    (
        "raw-link-shown-as-text",
        '<a href="javascript:alert(1)">x</a>',
        '<p>&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;</p>',
    ),
    (
        "html-comment-shown-as-text",
        "<!-- hidden -->",
        "<p>&lt;!-- hidden --&gt;</p>",
    ),
    (
        "data-url-link-loses-href",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<p><a rel="nofollow noopener">x</a></p>',
    ),
    (
        "data-url-image-loses-src",
        "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
        '<p><img alt="x"></p>',
    ),
    (
        "javascript-image-loses-src",
        "![x](javascript:alert(1))",
        '<p><img alt="x"></p>',
    ),
    (
        "escaped-entities-stay-escaped",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    ),
]


def clean(text: str) -> str:
    return dedent(text).strip()


@pytest.mark.parametrize(
    ("source", "expected"),
    [pytest.param(source, expected, id=name) for name, source, expected in MARKDOWN + XSS],
)
def test_markdown_renders(source, expected):
    assert render_markdown(clean(source)) == clean(expected)


@pytest.mark.parametrize(
    "source",
    [
        "[a](https://example.org)",
        "<https://example.org>",
        "plain https://example.org text",
        "www.example.org",
        "<desk@example.org>",
    ],
)
def test_every_link_gets_nofollow_noopener(source):
    links = soup(render_markdown(source)).find_all("a")
    assert links
    assert all(link["rel"] == ["nofollow", "noopener"] for link in links)


def test_sanitize_drops_what_the_allow_list_does_not_name():
    html = (
        '<h1>Title</h1><p style="color:red" class="x" id="y" onclick="z()">Text</p>'
        '<iframe src="https://evil.example/"></iframe><script>alert(1)</script>'
        '<a href="https://example.org" target="_blank" rel="opener">x</a>'
    )
    assert sanitize(html) == (
        'Title<p>Text</p>alert(1)<a href="https://example.org" rel="nofollow noopener">x</a>'
    )


def test_rendering_returns_markup_that_jinja_will_not_escape_again():
    assert render_markdown("**x**").__html__() == "<p><strong>x</strong></p>"


# Blocks through the default theme

HOSTILE = "<script>alert(1)</script>\"'&<img src=x onerror=alert(1)>"
HOSTILE_URL = 'https://example.org/"><script>alert(1)</script>'
HOSTILE_VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ&x="><script>alert(1)</script>'


@pytest.fixture(scope="module")
def templates():
    return Themes().environment("default")


def hostile_blocks() -> list[dict]:
    """One block of each type with hostile text in every field, cleaned as an entry save would."""
    raw = [
        {"type": "text", "markdown": HOSTILE},
        {
            "type": "social",
            "url": HOSTILE_URL,
            "provider": "x",
            "author_name": HOSTILE,
            "author_handle": HOSTILE,
            "author_url": HOSTILE_URL,
            "text": f"{HOSTILE}\n\n{HOSTILE}",
            "posted_at": "2017-03-24T07:45:00Z",
            "media": [{"url": HOSTILE_URL, "alt": HOSTILE}],
        },
        {
            "type": "map",
            "center": {"lat": 35.2, "lon": 36.7},
            "zoom": 10,
            "markers": [{"lat": 35.2094, "lon": 36.7539, "label": HOSTILE}],
            "image": {"url": HOSTILE_URL, "alt": HOSTILE},
            "caption": HOSTILE,
            "credit": HOSTILE,
        },
        {
            "type": "image",
            "url": HOSTILE_URL,
            "alt": HOSTILE,
            "caption": HOSTILE,
            "credit": HOSTILE,
            "width": 640,
            "height": 480,
        },
        {"type": "video", "url": HOSTILE_VIDEO, "caption": HOSTILE},
    ]
    errors: list = []
    blocks = validate_blocks([(f"blocks[{i}]", block) for i, block in enumerate(raw)], errors)
    assert errors == []
    assert len(blocks) == len(raw)
    return blocks


@pytest.mark.parametrize("index", range(5), ids=["text", "social", "map", "image", "video"])
def test_hostile_text_in_every_field_of_a_block_is_escaped(templates, index):
    block = hostile_blocks()[index]
    html = str(render_blocks([block], templates))
    parsed = soup(html)

    assert "<script" not in html and "<iframe" not in html
    assert parsed.find_all(["script", "iframe", "style"]) == []
    for element in parsed.find_all(True):
        assert not [name for name in element.attrs if name.startswith("on") or name == "style"]
        for name in ("href", "src", "cite"):
            if element.has_attr(name):
                assert element[name].startswith(("https://", "http://", "/")), element
    # Only the hostile <img> text could have become an image; the only images are the block's own.
    for image in parsed.find_all("img"):
        assert image["src"] == HOSTILE_URL
    # What the editor typed is shown as text, character for character.
    assert HOSTILE in parsed.get_text()


def test_each_block_type_renders_through_its_template(templates):
    html = str(render_blocks(hostile_blocks(), templates))
    figures = soup(html).select(".block")
    assert [figure["class"] for figure in figures] == [
        ["block", "block-text"],
        ["block", "block-social", "block-social-x"],
        ["block", "block-map"],
        ["block", "block-image"],
        ["block", "block-video", "block-video-youtube"],
    ]
    social, map_, image, video = figures[1:]
    assert social.select_one("blockquote")["cite"] == HOSTILE_URL
    assert [p.get_text() for p in social.select("blockquote p")] == [HOSTILE, HOSTILE]
    assert social.select_one(".social-author a")["href"] == HOSTILE_URL
    assert social.select_one(".social-provider").get_text() == "on X (Twitter)"
    assert social.select_one("time")["datetime"] == "2017-03-24T07:45:00+00:00"
    assert social.select_one(".social-media a").get_text(strip=True) == HOSTILE
    assert map_.select_one("li a").get_text() == HOSTILE
    assert map_.select_one("img")["alt"] == HOSTILE
    assert image.select_one("img")["alt"] == HOSTILE
    assert image.select_one(".credit").get_text() == HOSTILE
    assert video.select_one("a.video-link")["href"] == HOSTILE_VIDEO
    assert video.select_one("figcaption").get_text() == HOSTILE


def test_every_link_a_block_template_makes_is_nofollow_noopener(templates):
    links = soup(str(render_blocks(hostile_blocks(), templates))).find_all("a")
    assert len(links) >= 5
    assert all(link["rel"] == ["nofollow", "noopener"] for link in links)


def test_text_block_is_the_sanitised_markdown(templates):
    html = render_blocks([{"type": "text", "markdown": "Rebels **advance**."}], templates)
    assert html == clean(
        """
        <div class="block block-text" dir="auto">
        <p>Rebels <strong>advance</strong>.</p>
        </div>
        """
    )


def test_map_without_markers_or_image_links_to_openstreetmap(templates):
    block = {"type": "map", "center": {"lat": 35.2, "lon": 36.7}, "zoom": 9}
    link = soup(str(render_blocks([block], templates))).select_one("a")
    assert link["href"] == "https://www.openstreetmap.org/#map=9/35.2/36.7"


def test_social_post_without_url_or_author(templates):
    block = {"type": "social", "text": "Placeholder: the post's words are not reproduced."}
    figure = soup(str(render_blocks([block], templates))).select_one("figure")
    assert "block-social-other" in figure["class"]
    assert figure.select_one(".social-author").get_text(strip=True) == "Unknown author"
    assert figure.select_one(".social-provider").get_text() == "on the web"
    assert figure.select_one("a.social-original") is None


def test_a_video_is_a_link_that_carries_its_privacy_enhanced_player(templates):
    block = {
        "type": "video",
        "url": "https://youtu.be/dQw4w9WgXcQ?t=1m5s",
        "provider": "youtube",
        "title": "Drone footage",
    }
    link = soup(str(render_blocks([block], templates))).select_one("a.video-link")
    assert "video-poster" in link["class"]
    assert link["href"] == "https://youtu.be/dQw4w9WgXcQ?t=1m5s"
    assert link["data-player"] == (
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1&start=65"
    )
    assert link.find("img") is None  # no poster: a neutral one, drawn by the stylesheet
    assert link.get_text(" ", strip=True) == "Drone footage Watch the video on YouTube"

    block["poster"] = {"url": "/media/uploads/p.jpg", "width": 640, "height": 360}
    poster = soup(str(render_blocks([block], templates))).select_one("a.video-link img")
    assert (poster["src"], poster["alt"], poster["width"]) == ("/media/uploads/p.jpg", "", "640")


def test_an_uploaded_image_offers_its_sizes(templates):
    url = "/media/uploads/" + "b" * 64 + ".webp"
    block = {"type": "image", "url": url, "alt": "Smoke", "width": 1000, "height": 500}
    image = soup(str(render_blocks([block], templates))).select_one("img")
    assert image["srcset"] == (f"{url[:-5]}-480w.webp 480w, {url[:-5]}-960w.webp 960w, {url} 1000w")
    assert image["sizes"] == "(min-width: 44rem) 40rem, 100vw"
    block["url"] = "https://example.org/photo.jpg"
    image = soup(str(render_blocks([block], templates))).select_one("img")
    assert not image.has_attr("srcset") and not image.has_attr("sizes")


def test_a_map_hands_its_places_and_drawing_to_the_script(templates):
    geojson = {"type": "Point", "coordinates": [36.7, 35.2], "x": "</figure>'\""}
    block = {
        "type": "map",
        "center": {"lat": 35.2, "lon": 36.7},
        "zoom": 9,
        "markers": [{"lat": 35.2094, "lon": 36.7539, "label": "Qomhana"}],
        "geojson": geojson,
    }
    figure = soup(str(render_blocks([block], templates))).select_one("figure")
    assert (figure["data-lat"], figure["data-lon"], figure["data-zoom"]) == ("35.2", "36.7", "9")
    assert json.loads(figure["data-geojson"]) == geojson
    place = figure.select_one(".map-places li")
    assert (place["data-lat"], place["data-lon"]) == ("35.2094", "36.7539")
