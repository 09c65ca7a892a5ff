// One album: its photos in the grid, rename, delete, and adding or removing
// photos. The album is read (GetItem) and written (UpdateItem, DeleteItem)
// by this browser straight in DynamoDB (albums-store.js); its photo IDs
// become cards through the app's own photo API (GET /api/photos/<id>), and
// gallery.js signs each image with this browser's credentials.
//
// Every write names the version this page read: if another tab changed the
// album meanwhile, DynamoDB refuses it and the page says so, keeping what
// was typed, until a reload shows the latest.
import { AlbumConflict, albumStore, urlFor } from "./albums-store.js";
import { apiCall, credentialsGet } from "./credentials.js";
import { imagesShow } from "./gallery.js";

const config = JSON.parse(document.getElementById("albums-config").textContent);
const store = albumStore(config);
const page = document.querySelector("[data-album-page]");
const CANDIDATES_LIMIT = 60; // your newest photos offered for adding (the photo API's page)
const FETCHES_AT_ONCE = 6; // photo API requests in flight, as a browser allows per host

const part = (selector) => page.querySelector(selector);
const title = part('[data-testid="album-title"]');
const count = part('[data-testid="album-count"]');
const status = part('[data-testid="album-status"]');
const conflict = part('[data-testid="album-conflict"]');
const edit = part('[data-role="edit"]');
const renameForm = part('[data-role="rename-form"]');
const grid = part('[data-testid="album-photos"]');
const empty = part('[data-role="empty"]');
const adding = part('[data-role="add"]');
const candidates = part('[data-testid="album-candidates"]');
const addHint = part('[data-role="add-hint"]');

let album = null;
let identityId = "";
let busy = false;
const photos = new Map(); // photo id -> the photo API's JSON, or null when it is gone or not visible
let mine = []; // the viewer's newest photos

function say(message, { error = false } = {}) {
  status.textContent = message;
  status.classList.toggle("error", error);
}

function failed(error) {
  if (error instanceof AlbumConflict) {
    conflict.querySelector('[data-role="conflict-text"]').textContent = error.message;
    conflict.hidden = false;
    page.dataset.state = "conflict";
    say("");
    return;
  }
  say(error.message, { error: true });
}

// --- photo cards -----------------------------------------------------------------------------

async function photoLoad(id) {
  if (!photos.has(id)) {
    try {
      photos.set(id, await apiCall(urlFor(config.photoApiUrl, config, id)));
    } catch (error) {
      if (error.status !== 404) throw error;
      photos.set(id, null); // deleted, or no longer published: the album keeps the ID until removed
    }
  }
  return photos.get(id);
}

async function photosLoad(ids) {
  for (let start = 0; start < ids.length; start += FETCHES_AT_ONCE) {
    await Promise.all(ids.slice(start, start + FETCHES_AT_ONCE).map(photoLoad));
  }
}

// The viewer's own photos are read from their private keys, others' from the public copy (gallery.js).
function asCard(photo) {
  return { ...photo, mine: photo.key.startsWith(`private/${identityId}/`) };
}

function card(id, photo, action) {
  const item = document.createElement("li");
  item.className = "photo-card";
  item.dataset.testid = "photo-card";
  item.dataset.photoId = id;
  const caption = document.createElement("div");
  caption.className = "caption";
  if (photo) {
    const thumb = document.createElement("a");
    thumb.className = "thumb";
    thumb.href = urlFor(config.photoPageUrl, config, id);
    thumb.tabIndex = -1;
    thumb.setAttribute("aria-hidden", "true");
    const image = document.createElement("img");
    image.dataset.testid = "photo-image";
    image.dataset.photoId = id;
    image.dataset.size = "thumbnail";
    image.alt = photo.title || "Untitled photo";
    if (photo.width && photo.height) {
      image.width = photo.width;
      image.height = photo.height;
    }
    thumb.append(image);
    item.append(thumb);
    const link = document.createElement("a");
    link.className = "title";
    link.href = thumb.href;
    link.textContent = photo.title || "Untitled photo";
    caption.append(link);
  } else {
    item.classList.add("gone");
    const note = document.createElement("span");
    note.className = "title";
    note.textContent = "This photo is no longer available.";
    caption.append(note);
  }
  item.append(caption);
  const actions = document.createElement("div");
  actions.className = "card-actions";
  const button = document.createElement("button");
  button.type = "button";
  button.className = action.className;
  button.dataset.testid = action.testid;
  button.textContent = action.label;
  button.addEventListener("click", () => action.run(id));
  actions.append(button);
  item.append(actions);
  return item;
}

async function signImages(root, shown) {
  await imagesShow(root, {
    photos: shown.map(asCard),
    credentialsUrl: config.credentialsUrl,
    csrfToken: config.csrfToken,
    recheckUrl: config.recheckUrl,
  });
}

// --- showing the album ------------------------------------------------------------------------

function header() {
  title.textContent = album.title;
  document.title = `${album.title} · Photoshare`;
  const n = album.photoIds.length;
  count.textContent = `${n} photo${n === 1 ? "" : "s"}`;
}

async function render() {
  header();
  await photosLoad(album.photoIds);
  const cards = album.photoIds.map((id) =>
    card(id, photos.get(id), { testid: "album-remove-photo", label: "Remove", className: "secondary", run: removePhoto }),
  );
  grid.replaceChildren(...cards);
  empty.hidden = cards.length > 0;
  const offered = mine.filter((photo) => !album.photoIds.includes(photo.id));
  candidates.replaceChildren(
    ...offered.map((photo) => card(photo.id, photo, { testid: "album-add-photo", label: "Add", className: "", run: addPhoto })),
  );
  addHint.textContent = mine.length
    ? offered.length
      ? "Your newest photos not in this album yet."
      : "Every one of your newest photos is in this album."
    : "You have no photos yet: upload some, then add them here.";
  adding.hidden = false;
  await Promise.all([
    signImages(grid, album.photoIds.map((id) => photos.get(id)).filter(Boolean)),
    signImages(candidates, offered),
  ]);
}

// One write at a time from this page: a double click must not conflict with itself.
async function write(change, done) {
  if (busy || page.dataset.state === "conflict") return;
  busy = true;
  page.dataset.busy = "true";
  page.querySelectorAll("button:not([data-testid=album-reload])").forEach((button) => (button.disabled = true));
  try {
    album = await change(album);
    say(done);
    await render();
  } catch (error) {
    failed(error);
  } finally {
    busy = false;
    delete page.dataset.busy;
    if (page.dataset.state !== "conflict") {
      page.querySelectorAll("button").forEach((button) => (button.disabled = false));
    }
  }
}

function addPhoto(id) {
  const picked = mine.find((photo) => photo.id === id);
  if (picked) photos.set(id, picked); // no second request for a card this page already has
  return write((current) => store.photosSet(current, [...current.photoIds, id]), "Added to the album.");
}

function removePhoto(id) {
  return write((current) => store.photosSet(current, current.photoIds.filter((other) => other !== id)), "Removed from the album.");
}

renameForm.addEventListener("submit", (event) => {
  event.preventDefault();
  write((current) => store.rename(current, renameForm.elements.title.value), "Renamed.");
});

const confirmation = part('[data-role="delete-confirmation"]');
part('[data-testid="album-delete"]').addEventListener("click", () => {
  confirmation.hidden = false;
});
part('[data-role="delete-cancel"]').addEventListener("click", () => {
  confirmation.hidden = true;
});
part('[data-testid="album-delete-confirm"]').addEventListener("click", async () => {
  if (busy) return;
  busy = true;
  try {
    await store.remove(album);
    window.location.assign(config.albumsUrl);
  } catch (error) {
    failed(error);
  } finally {
    busy = false;
  }
});

part('[data-testid="album-reload"]').addEventListener("click", () => window.location.reload());

async function main() {
  try {
    const [found, credentials] = await Promise.all([
      store.get(config.albumId),
      credentialsGet({ url: config.credentialsUrl, csrfToken: config.csrfToken }),
    ]);
    identityId = credentials.identityId;
    if (!found) {
      title.textContent = "No such album";
      say("This album does not exist, or it was deleted.", { error: true });
      page.dataset.state = "missing";
      return;
    }
    album = found;
    renameForm.elements.title.value = album.title;
    edit.hidden = false;
    const answer = await apiCall(`${config.myPhotosUrl}?limit=${CANDIDATES_LIMIT}`);
    mine = answer.photos || [];
    await render();
    page.dataset.state = "ready";
  } catch (error) {
    failed(error);
    if (page.dataset.state === "loading") page.dataset.state = "error";
  }
}

main();
