"""The web page: plain HTML, one small script per page and one stylesheet, served as files (no build
step, no template engine). Each page fetches its data from the API with the same requests a program
would make.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
#: Swagger UI and ReDoc, as installed with the project (the pinned fastapi-offline package ships
#: their files): /docs and /redoc work offline and load nothing from another origin.
API_DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))

#: The pages may load only their own scripts, styles and images; nothing inline, no frames, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"})


@router.get("/", response_model=None)
def front_page(request: Request) -> FileResponse | RedirectResponse:
    """The Stories front page. A search link of the time when search was the front page (``/?q=...``,
    ``/?entity=...``) still works: anything with a query string goes on to the search page."""
    if request.url.query:
        return RedirectResponse(f"/search?{request.url.query}", status_code=308)
    return page("stories.html")


@router.get("/search")
def search_page() -> FileResponse:
    return page("search.html")


@router.get("/entities/{name}")
def entity_page(name: str) -> FileResponse:  # noqa: ARG001 - the script reads the name from the URL
    return page("entity.html")


@router.get("/articles/{article_id}")
def article_page(article_id: str) -> FileResponse:  # noqa: ARG001 - the script reads the id from the URL
    return page("article.html")


@router.get("/stories")
def stories_page() -> FileResponse:
    return page("stories.html")


@router.get("/feeds")
def feeds_page() -> FileResponse:
    return page("feeds.html")


@router.get("/alerts")
def alerts_page() -> FileResponse:
    return page("alerts.html")


@router.get("/docs")
def swagger_page() -> FileResponse:
    return page("docs.html")


@router.get("/redoc")
def redoc_page() -> FileResponse:
    return page("redoc.html")
