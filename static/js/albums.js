// The album list: this browser's Query on its own partition of the albums
// table, and a form that creates an album (PutItem), both straight to
// DynamoDB with its own credentials (albums-store.js).
import { albumStore, urlFor } from "./albums-store.js";

const config = JSON.parse(document.getElementById("albums-config").textContent);
const store = albumStore(config);
const page = document.querySelector("[data-albums-page]");
const list = page.querySelector('[data-testid="album-list"]');
const empty = page.querySelector('[data-role="empty"]');
const status = page.querySelector('[data-testid="album-status"]');
const form = page.querySelector('[data-role="create-form"]');

function say(message, { error = false } = {}) {
  status.textContent = message;
  status.classList.toggle("error", error);
}

function countText(album) {
  const count = album.photoIds.length;
  return `${count} photo${count === 1 ? "" : "s"}`;
}

function albumItem(album) {
  const item = document.createElement("li");
  item.dataset.testid = "album";
  item.dataset.albumId = album.albumId;
  const link = document.createElement("a");
  link.href = urlFor(config.albumUrl, config, album.albumId);
  const name = document.createElement("span");
  name.className = "album-name";
  name.textContent = album.title; // text, never HTML: the owner could have stored anything
  const meta = document.createElement("span");
  meta.className = "album-meta";
  meta.textContent = countText(album);
  link.append(name, meta);
  item.append(link);
  return item;
}

function show(albums) {
  list.replaceChildren(...albums.map(albumItem));
  empty.hidden = albums.length > 0;
}

async function load() {
  try {
    show(await store.list());
    page.dataset.state = "ready";
  } catch (error) {
    say(error.message, { error: true });
    page.dataset.state = "error";
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  const input = form.elements.title;
  button.disabled = true;
  try {
    const album = await store.create(input.value);
    list.prepend(albumItem(album));
    empty.hidden = true;
    input.value = "";
    say(`Created “${album.title}”.`);
  } catch (error) {
    say(error.message, { error: true }); // the typed name stays in the field
  } finally {
    button.disabled = false;
  }
});

load();
