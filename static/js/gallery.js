// Shows photos with this browser's own credentials: every <img> of a photo is
// presigned here (credentials.js), for the version the server checked and as
// the type it sniffed. A guest signs with the unauthenticated role, a user
// with theirs, so IAM, not the server, decides what loads.
//
// The page gives the photos as JSON (json_script) and each image names its
// photo with data-photo-id. Grids show the thumbnail; without one, the
// original, scaled by CSS. An image that fails to load (its object is gone)
// makes the page ask the server to recheck that photo, once.
import { apiCall, credentialsGet, readUrl } from "./credentials.js";

const THUMBNAIL_TYPE = "image/jpeg"; // thumbnails are <uuid>.jpg (uploads/rules.py)

// Which object this viewer reads: their own photo from its private key, anyone
// else's public photo from its public copy.
export function readTarget(photo, { grid }) {
  if (!photo.mine && photo.publicKey) {
    if (grid && photo.publicThumbKey) {
      return { key: photo.publicThumbKey, versionId: photo.publicThumbVersionId, contentType: THUMBNAIL_TYPE };
    }
    return { key: photo.publicKey, versionId: photo.publicVersionId, contentType: photo.contentType };
  }
  if (grid && photo.thumbKey) {
    return { key: photo.thumbKey, versionId: photo.thumbVersionId, contentType: THUMBNAIL_TYPE };
  }
  return { key: photo.key, versionId: photo.versionId, contentType: photo.contentType };
}

// The page gives the URL for a placeholder id (uploads/views.py PLACEHOLDER_ID).
function recheckUrl(template, id) {
  return template.replace("00000000-0000-0000-0000-000000000000", id);
}

// Sign and set the src of every image under root; `config` is the page's data.
export async function imagesShow(root, config) {
  const photos = new Map(config.photos.map((photo) => [photo.id, photo]));
  const images = [...root.querySelectorAll("img[data-photo-id]")];
  if (images.length === 0) {
    return;
  }
  let credentials;
  try {
    credentials = await credentialsGet({ url: config.credentialsUrl, csrfToken: config.csrfToken });
  } catch (error) {
    root.dataset.imageError = error.message;
    return;
  }
  await Promise.all(images.map((image) => imageShow(image, photos.get(image.dataset.photoId), credentials, config)));
}

async function imageShow(image, photo, credentials, config) {
  if (!photo) {
    return;
  }
  const grid = image.dataset.size === "thumbnail";
  let rechecked = false;
  image.addEventListener("error", async () => {
    if (rechecked) {
      image.dataset.state = "missing";
      return;
    }
    rechecked = true;
    try {
      const answer = await apiCall(recheckUrl(config.recheckUrl, photo.id), { method: "POST", csrfToken: config.csrfToken });
      const fresh = { ...answer, mine: photo.mine };
      image.src = await readUrl(credentials, readTarget(fresh, { grid }));
    } catch (error) {
      image.dataset.state = "missing"; // 404: the photo is gone, and the catalog knows it now
      const card = image.closest("[data-testid=photo-card]");
      if (card && error.status === 404) {
        card.classList.add("gone");
        card.querySelector(".gone-note")?.removeAttribute("hidden");
      }
    }
  });
  image.addEventListener("load", () => {
    image.dataset.state = "loaded";
  });
  image.src = await readUrl(credentials, readTarget(photo, { grid }));
}

function pageData() {
  const holder = document.querySelector("[data-page-data]");
  return holder ? JSON.parse(document.getElementById(holder.dataset.pageData).textContent) : null;
}

// The gallery pages: the images, and the next page appended as it comes into
// view (the next-page link still works without JavaScript).
async function galleryMain(root, config) {
  await imagesShow(root, config);
  const next = document.querySelector("[data-testid=next-page]");
  const grid = root.querySelector("[data-grid]");
  if (!next || !grid || !("IntersectionObserver" in window)) {
    return;
  }
  let loading = false;
  const observer = new IntersectionObserver(async (entries) => {
    if (loading || !entries.some((entry) => entry.isIntersecting)) {
      return;
    }
    loading = true;
    try {
      const response = await fetch(next.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) {
        return;
      }
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const holder = html.querySelector("[data-page-data]");
      const more = JSON.parse(html.getElementById(holder.dataset.pageData).textContent);
      const fragment = document.createDocumentFragment();
      html.querySelectorAll("[data-grid] > [data-testid=photo-card]").forEach((card) => fragment.append(document.adoptNode(card)));
      const added = document.createElement("div");
      added.append(fragment);
      const cards = [...added.children];
      grid.append(...cards);
      cards.forEach((card) => imagesShow(card, { ...config, photos: more.photos }));
      const following = html.querySelector("[data-testid=next-page]");
      if (following) {
        next.href = following.href;
      } else {
        observer.disconnect();
        next.remove();
      }
    } finally {
      loading = false;
    }
  });
  observer.observe(next);
}

const root = document.querySelector("[data-gallery]");
const config = pageData();
if (root && config) {
  galleryMain(root, config);
}
