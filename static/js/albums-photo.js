// The photo page's "In your albums": which of this viewer's albums hold the
// photo, and adding it to another. Read from DynamoDB by this browser (a
// Query on its own partition), never by the server (albums-store.js).
import { albumStore, urlFor } from "./albums-store.js";

const config = JSON.parse(document.getElementById("in-albums-config").textContent);
const store = albumStore(config);
const block = document.querySelector("[data-in-albums]");
const holding = block.querySelector('[data-testid="photo-albums"]');
const form = block.querySelector('[data-role="add-form"]');
const select = form.elements.album;
const status = block.querySelector('[data-testid="photo-albums-status"]');

let albums = [];

function say(message, { error = false } = {}) {
  status.textContent = message;
  status.classList.toggle("error", error);
}

function show() {
  const inside = albums.filter((album) => album.photoIds.includes(config.photoId));
  if (inside.length === 0) {
    holding.textContent = albums.length ? "In none of your albums yet." : "You have no albums yet.";
  } else {
    holding.replaceChildren(
      ...inside.map((album) => {
        const link = document.createElement("a");
        link.href = urlFor(config.albumUrl, config, album.albumId);
        link.dataset.testid = "photo-album";
        link.textContent = album.title;
        return link;
      }),
    );
  }
  const others = albums.filter((album) => !album.photoIds.includes(config.photoId));
  select.replaceChildren(
    ...others.map((album) => {
      const option = document.createElement("option");
      option.value = album.albumId;
      option.textContent = album.title;
      return option;
    }),
  );
  form.hidden = others.length === 0;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  const album = albums.find((candidate) => candidate.albumId === select.value);
  if (!album) return;
  button.disabled = true;
  try {
    const updated = await store.photosSet(album, [...album.photoIds, config.photoId]);
    albums = albums.map((candidate) => (candidate.albumId === updated.albumId ? updated : candidate));
    show();
    say(`Added to “${updated.title}”.`);
  } catch (error) {
    say(error.message, { error: true });
  } finally {
    button.disabled = false;
  }
});

async function main() {
  try {
    albums = await store.list();
    show();
    block.dataset.state = "ready";
  } catch (error) {
    holding.textContent = "";
    say(error.message, { error: true });
    block.dataset.state = "error";
  }
}

main();
