"""The album pages. Both are empty shells for signed-in users: the browser
fills them from DynamoDB with its own credentials (static/js/albums.js and
albums-album.js), so no album passes through the server."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from albums.config import albums_config


@login_required
@require_GET
def album_list(request: HttpRequest) -> HttpResponse:
    """Your albums, and a form to start one."""
    return render(request, "albums/albums.html", {"albums_config": albums_config(request)})


@login_required
@require_GET
def album(request: HttpRequest, album_id: uuid.UUID) -> HttpResponse:
    """One album: its photos in the grid, and the edits. Whether it exists is
    the browser's to find out (the server cannot read the caller's albums)."""
    return render(request, "albums/album.html", {"albums_config": albums_config(request, albumId=str(album_id))})
