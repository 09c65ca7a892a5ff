// The photo page: the full image (gallery.js signs it), and the actions.
//
// - rename: PATCH /api/photos/<id> {title};
// - publish: the owner's browser copies the pinned private version into their
//   public prefix with their own credentials (CopyObject), then the server
//   checks the copy is byte-identical and pins it;
// - unpublish: the server deletes the public copies;
// - delete: only after a second, explicit click;
// - take down (moderators): this browser deletes the public copies with the
//   moderator role's own credentials, then the server records why.
// The prefixes and URLs come from the page data, never rebuilt from the identity ID.
import { apiCall, credentialsGet, objectUrl, s3Client } from "./credentials.js";
import { imagesShow } from "./gallery.js";

const holder = document.querySelector("[data-page-data]");
const config = JSON.parse(document.getElementById(holder.dataset.pageData).textContent);
const [photo] = config.photos;
const status = document.querySelector('[data-role="status"]');

function say(message) {
  status.textContent = message;
}

function control(testid) {
  return document.querySelector(`[data-testid="${testid}"]`);
}

async function credentials() {
  return credentialsGet({ url: config.credentialsUrl, csrfToken: config.csrfToken });
}

// CopyObject of one pinned version, metadata (type, Cache-Control) and all.
async function copy(creds, source, versionId, destination) {
  const encoded = source.split("/").map(encodeURIComponent).join("/");
  const response = await s3Client(creds).fetch(objectUrl(creds, destination), {
    method: "PUT",
    headers: {
      "x-amz-copy-source": `/${creds.bucket}/${encoded}?versionId=${encodeURIComponent(versionId)}`,
      "x-amz-metadata-directive": "COPY",
    },
  });
  if (!response.ok) {
    throw new Error(`S3 refused the copy (${response.status}).`);
  }
}

async function publish() {
  const creds = await credentials();
  const prefix = config.prefixes.public;
  if (!prefix) {
    throw new Error("Your account has no storage yet. Reload the page and try again.");
  }
  const body = { publicKey: prefix + photo.key.split("/").pop() };
  await copy(creds, photo.key, photo.versionId, body.publicKey);
  if (photo.thumbKey) {
    body.publicThumbKey = `${prefix}thumbs/${photo.thumbKey.split("/").pop()}`;
    await copy(creds, photo.thumbKey, photo.thumbVersionId, body.publicThumbKey);
  }
  await apiCall(config.urls.publish, { method: "POST", csrfToken: config.csrfToken, body });
  window.location.reload();
}

async function unpublish() {
  await apiCall(config.urls.unpublish, { method: "POST", csrfToken: config.csrfToken });
  window.location.reload();
}

async function rename(event) {
  event.preventDefault();
  const title = event.target.elements.title.value.trim();
  const answer = await apiCall(config.urls.photo, { method: "PATCH", csrfToken: config.csrfToken, body: { title } });
  document.querySelector("[data-role=title]").textContent = answer.title || "Untitled";
  say("Saved.");
}

function deleteAsk() {
  control("delete").hidden = true;
  document.querySelector("[data-role=delete-confirmation]").hidden = false;
  control("delete-confirm").focus();
}

function deleteCancel() {
  control("delete").hidden = false;
  document.querySelector("[data-role=delete-confirmation]").hidden = true;
}

async function deleteConfirm() {
  await apiCall(config.urls.photo, { method: "DELETE", csrfToken: config.csrfToken });
  window.location.assign(config.urls.afterDelete);
}

async function takeDown(event) {
  event.preventDefault();
  const reason = event.target.elements.reason.value.trim();
  if (!reason) {
    say("Say why it is taken down: the owner is shown the reason.");
    return;
  }
  const creds = await credentials();
  const s3 = s3Client(creds);
  for (const key of [photo.publicKey, photo.publicThumbKey].filter(Boolean)) {
    const response = await s3.fetch(objectUrl(creds, key), { method: "DELETE" });
    if (!response.ok && response.status !== 404) {
      throw new Error(`S3 refused to delete the public copy (${response.status}).`);
    }
  }
  await apiCall(config.urls.takeDown, { method: "POST", csrfToken: config.csrfToken, body: { reason } });
  window.location.assign(config.urls.afterTakeDown);
}

// Every action reports its failure in the status line and can be tried again.
function guarded(action) {
  return async (event) => {
    const button = event.submitter || event.currentTarget;
    if (button instanceof HTMLButtonElement) {
      button.disabled = true;
    }
    say("");
    try {
      await action(event);
    } catch (error) {
      say(error.message);
    } finally {
      if (button instanceof HTMLButtonElement) {
        button.disabled = false;
      }
    }
  };
}

function on(selector, type, handler) {
  document.querySelector(selector)?.addEventListener(type, handler);
}

on('[data-testid="publish"]', "click", guarded(publish));
on('[data-testid="unpublish"]', "click", guarded(unpublish));
on('[data-testid="delete"]', "click", deleteAsk);
on("[data-role=delete-cancel]", "click", deleteCancel);
on('[data-testid="delete-confirm"]', "click", guarded(deleteConfirm));
on("[data-role=rename-form]", "submit", guarded(rename));
on("[data-role=take-down-form]", "submit", guarded(takeDown));

// ← and → go to the previous and next photo, unless one is typing.
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.target.closest("input, textarea, select, [contenteditable]")) {
    return;
  }
  const link = document.querySelector(event.key === "ArrowLeft" ? "a[rel=prev]" : event.key === "ArrowRight" ? "a[rel=next]" : null);
  if (link) {
    window.location.assign(link.href);
  }
});

imagesShow(document.querySelector("[data-photo-page]"), config);
