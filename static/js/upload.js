// Upload photos straight from the browser to S3, then register each one.
//
// 1. Files come from the picker (multiple), a drop onto the page, or a paste.
//    Each is sniffed and sized here first: a non-image or one over the limit
//    is refused before any byte is sent (the server checks again anyway).
// 2. Each file goes to <prefix><uuid>.<extension>, signed in this browser with
//    the scoped credentials from credentials.js: one PUT below the multipart
//    threshold, multipart above it (multipart.js). The prefix is one the page
//    was given (uploads/rules.py, through json_script): IAM lets these
//    credentials write under their own identity ID only, and under
//    teams/<team>/ when they carry that team's role; the page offers Team
//    photos as a destination only then, and the server checks it again.
//    A JPEG thumbnail (thumbnails.js) goes to <prefix>thumbs/<the same uuid>.jpg.
//    Both carry Cache-Control: immutable, since a key is never written twice.
// 3. POST /api/photos {key, thumbKey, title}: the server checks the upload
//    and adds it to the catalog, or deletes it and says why.
//
// Why the Network panel used to show the successful PUT as net::ERR_ABORTED:
// the old page called location.assign() the moment registration answered,
// while the PUT's fetch response had never been read. Chromium keeps a fetch
// open until its body is consumed, so the navigation cancelled it and logged
// ERR_ABORTED after the 200. Now every S3 response is read to its end (XHR
// loads it whole; fetch bodies are consumed in multipart.js) and the page
// leaves only once every file has settled.
import { credentialsGet } from "./credentials.js";
import { uploadObject } from "./multipart.js";
import { thumbnailMake } from "./thumbnails.js";

const CACHE_CONTROL = "private, max-age=31536000, immutable"; // one year: keys never change
const FILES_AT_ONCE = 3;
const MiB = 1024 * 1024;

const form = document.getElementById("upload-form");
const picker = form.elements.file;
const queue = form.querySelector('[data-role="queue"]');
const template = document.getElementById("upload-item-template");
const status = form.querySelector('[data-role="status"]');
const start = form.querySelector('[data-role="start"]');
const cancelAll = form.querySelector('[data-role="cancel-all"]');
const batchBar = form.querySelector('[data-role="batch-progress"]');
const batchText = form.querySelector('[data-role="batch-status"]');
// The prefixes, types, signatures, size limits and messages, as the server checks them.
const rules = JSON.parse(document.getElementById(form.dataset.rules).textContent);
const MAX_BYTES = rules.maxBytes;
const THRESHOLD = rules.multipartThreshold || 8 * MiB;
const PART_BYTES = rules.partBytes || 8 * MiB;

const items = []; // one per file: { file, node, state, ... }

// --- where the batch goes --------------------------------------------------------------------

// The chosen destination radio: "" for the user's own folders, else a team's slug.
function destination() {
  return form.querySelector('input[name="destination"]:checked') || null;
}

const back = form.querySelector('[data-role="back"]');

function destinationShow() {
  const chosen = destination();
  const team = chosen?.value || "";
  form.dataset.destination = team ? "team" : "mine";
  if (chosen) {
    back.href = chosen.dataset.galleryUrl;
    back.textContent = team ? "Back to Team photos" : "Back to my photos";
  }
  for (const field of form.querySelectorAll('[data-role="public-field"]')) {
    field.hidden = Boolean(team); // a team's photos are the team's: never published
  }
}

for (const choice of form.querySelectorAll('input[name="destination"]')) {
  choice.addEventListener("change", destinationShow);
}

// --- words ---------------------------------------------------------------------------------

function bytesText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MiB) return `${(bytes / 1024).toFixed(1)} KB`;
  const mb = bytes / MiB;
  return Number.isInteger(mb) ? `${mb} MB` : `${mb.toFixed(1)} MB`; // as uploads/rules.py's megabytes()
}

// A message of the server's with {name} and {size} filled in.
function fill(message, values) {
  return message.replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole);
}

function durationText(seconds) {
  if (!Number.isFinite(seconds)) return "…";
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function say(message, { error = false } = {}) {
  status.textContent = message;
  status.classList.toggle("error", error);
}

// --- choosing files ------------------------------------------------------------------------

// The type the file's first bytes say, by the signatures the server sniffs.
// S3 keeps the Content-Type sent with the PUT, and the server refuses an image
// stored as any type but its own, so a PNG named photo.jpg must still go as image/png.
async function sniff(file) {
  const head = new Uint8Array(await file.slice(0, rules.sniffBytes).arrayBuffer());
  const matches = (signature) => signature.every(([at, bytes]) => bytes.every((byte, i) => head[at + i] === byte));
  const found = Object.entries(rules.types).find(([, type]) => type.signatures.some(matches));
  return found ? found[0] : null;
}

function part(item, role) {
  return item.node.querySelector(`[data-role="${role}"]`);
}

function show(item, state, message = "") {
  item.state = state;
  item.node.dataset.state = state;
  const text = part(item, "status");
  text.textContent = message;
  text.classList.toggle("error", state === "refused" || state === "failed");
  part(item, "remove").hidden = !["queued", "refused", "cancelled"].includes(state);
  part(item, "cancel").hidden = !["waiting", "uploading"].includes(state);
  part(item, "retry").hidden = state !== "failed";
  for (const field of item.node.querySelectorAll("input")) {
    field.disabled = !["queued", "failed", "cancelled"].includes(state);
  }
}

async function add(file) {
  const node = template.content.firstElementChild.cloneNode(true);
  const item = { file, node, sent: 0, state: "queued" };
  const n = items.length;
  const title = node.querySelector('[data-role="title"]');
  title.id = `upload-title-${n}`;
  node.querySelector('[data-role="title-label"]').htmlFor = title.id;
  title.value = file.name.replace(/\.[^.]*$/, "");
  part(item, "name").textContent = file.name;
  part(item, "size").textContent = bytesText(file.size);
  part(item, "remove").addEventListener("click", () => remove(item));
  part(item, "cancel").addEventListener("click", () => cancel(item));
  part(item, "retry").addEventListener("click", () => retry(item));
  items.push(item);
  queue.append(node);
  destinationShow();
  show(item, "queued", "Ready to upload.");
  item.type = await sniff(file);
  if (!item.type) {
    show(item, "refused", fill(rules.messages.notAnImageFile, { name: `${file.name} (${bytesText(file.size)})` }));
  } else if (file.size > MAX_BYTES) {
    show(item, "refused", fill(rules.messages.tooLargeFile, { name: file.name, size: bytesText(file.size) }));
  } else {
    item.preview = URL.createObjectURL(file);
    const image = part(item, "preview");
    image.src = item.preview;
    image.alt = `Preview of ${file.name}`;
  }
  refresh();
}

function addAll(files) {
  say("");
  for (const file of files) {
    add(file);
  }
}

function remove(item) {
  items.splice(items.indexOf(item), 1);
  item.node.remove();
  if (item.preview) URL.revokeObjectURL(item.preview);
  refresh();
}

picker.addEventListener("change", () => {
  addAll([...picker.files]);
  picker.value = ""; // the same file can be chosen again
});
document.addEventListener("dragover", (event) => {
  event.preventDefault();
  form.classList.add("dropping");
});
document.addEventListener("dragleave", (event) => {
  if (!event.relatedTarget) form.classList.remove("dropping");
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  form.classList.remove("dropping");
  addAll([...(event.dataTransfer?.files || [])]);
});
document.addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.files || [])];
  if (files.length) {
    event.preventDefault();
    addAll(files);
  }
});

// --- uploading -----------------------------------------------------------------------------

// Asked by the uploader before every request; force after ExpiredToken / InvalidToken.
function credentials({ force = false } = {}) {
  return credentialsGet({ url: form.dataset.credentialsUrl, csrfToken: form.dataset.csrfToken, force });
}

let batch = null; // { started, total, items }

function refresh() {
  const ready = items.some((item) => item.state === "queued");
  const working = items.some((item) => ["waiting", "uploading"].includes(item.state));
  start.disabled = !ready || working;
  cancelAll.hidden = !working;
  if (!batch) {
    batchBar.hidden = true;
    batchText.textContent = items.length ? `${items.length} file${items.length > 1 ? "s" : ""} chosen.` : "";
    return;
  }
  const sent = batch.items.reduce((sum, item) => sum + item.sent, 0);
  const seconds = (performance.now() - batch.started) / 1000;
  const speed = sent / Math.max(seconds, 0.001);
  batchBar.hidden = false;
  batchBar.max = batch.total || 1;
  batchBar.value = sent;
  const left = durationText((batch.total - sent) / speed);
  batchText.textContent = working
    ? `${bytesText(sent)} of ${bytesText(batch.total)} sent · ${bytesText(speed)}/s · ${left} left`
    : `${bytesText(sent)} of ${bytesText(batch.total)} sent.`;
}

async function register(body) {
  const response = await fetch(form.dataset.registerUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrfToken },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, answer };
}

async function send(item) {
  item.controller = new AbortController();
  show(item, "uploading", item.uploadState ? "Resuming…" : "Uploading…");
  const bar = part(item, "progress");
  const progress = ({ sent, total }) => {
    item.sent = Math.min(sent, item.file.size);
    bar.max = total || 1;
    bar.value = sent;
    refresh();
  };
  try {
    const creds = await credentials();
    const prefix = item.team
      ? rules.teamPrefixes[item.team]
      : rules.prefixes[part(item, "public").checked ? "public" : "private"];
    if (!prefix || creds.identityId !== rules.identityId) {
      throw Object.assign(new Error(rules.messages.noStorage), { final: true }); // the identity changed since the page was made
    }
    if (!item.name || item.prefix !== prefix) {
      item.name = crypto.randomUUID();
      item.prefix = prefix;
      item.uploadState = null;
    }
    const key = `${prefix}${item.name}.${rules.types[item.type].extension}`;
    const thumbnail = thumbnailMake(item.file); // decoded while the photo goes up
    await uploadObject({
      file: item.file,
      key,
      contentType: item.type,
      cacheControl: CACHE_CONTROL,
      credentials,
      onProgress: progress,
      signal: item.controller.signal,
      partBytes: PART_BYTES,
      threshold: THRESHOLD,
      uploadState: item.uploadState || undefined,
    });
    item.uploadState = null;
    const body = { key, title: part(item, "title").value };
    const small = await thumbnail;
    if (small) {
      body.thumbKey = `${prefix}${rules.thumbnails}/${item.name}.jpg`; // named after its photo, as the server checks
      await uploadObject({ blob: small, key: body.thumbKey, contentType: "image/jpeg", cacheControl: CACHE_CONTROL, credentials, signal: item.controller.signal, threshold: Infinity });
    }
    show(item, "uploading", "Checking…");
    const { ok, status: code, answer } = await register(body);
    if (ok) {
      show(item, "added", item.team ? "Added to Team photos." : "Added to your photos.");
    } else if (code >= 400 && code < 500) {
      item.name = null; // the server deleted what it refused
      show(item, "refused", `${item.file.name} was refused: ${answer.error || "the server did not accept it."}`);
    } else {
      show(item, "failed", `${item.file.name} could not be added (${code}). Retry to try again.`);
    }
  } catch (error) {
    if (item.controller.signal.aborted || error.cancelled) {
      item.name = null; // the uploader aborted the multipart upload: nothing is left behind
      item.uploadState = null;
      item.sent = 0;
      bar.value = 0;
      show(item, "queued", "Cancelled. It will go with the next upload unless removed.");
    } else if (error.final) {
      show(item, "refused", error.message);
    } else {
      item.uploadState = error.uploadState || item.uploadState;
      show(item, "failed", `${item.file.name} failed. ${error.message || "The upload stopped."} Retry resumes it.`);
    }
  } finally {
    item.controller = null;
    refresh();
  }
}

// FILES_AT_ONCE workers take the waiting files in order.
async function run(chosen) {
  batch = { started: performance.now(), total: chosen.reduce((sum, item) => sum + item.file.size, 0), items: chosen };
  const to = destination();
  for (const item of chosen) {
    item.team = to?.value || ""; // fixed for this batch, whatever is chosen while it uploads
    item.sent = 0;
    show(item, "waiting", "Waiting…");
  }
  say("");
  refresh();
  const worker = async () => {
    for (let item = next(chosen); item; item = next(chosen)) {
      await send(item);
    }
  };
  await Promise.all(Array.from({ length: FILES_AT_ONCE }, worker));
  refresh();
  const added = chosen.filter((item) => item.state === "added").length;
  if (items.every((item) => item.state === "added")) {
    const team = chosen[0].team;
    say(`${added} photo${added > 1 ? "s" : ""} added. Opening ${team ? "Team photos" : "My photos"}…`);
    window.location.assign(team ? to.dataset.galleryUrl : form.dataset.galleryUrl);
  } else {
    say(`${added} of ${chosen.length} added.`, { error: added < chosen.length });
  }
}

function next(chosen) {
  const item = chosen.find((one) => one.state === "waiting");
  if (item) item.state = "taken";
  return item;
}

function cancel(item) {
  if (item.controller) {
    item.controller.abort();
  } else if (item.state === "waiting" || item.state === "taken") {
    show(item, "queued", "Cancelled. It will go with the next upload unless removed.");
  }
}

function retry(item) {
  run([item]);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const chosen = items.filter((item) => item.state === "queued");
  if (!chosen.length) {
    say(items.length ? "Nothing left to upload." : "Choose photos first.", { error: !items.length });
    return;
  }
  run(chosen);
});
cancelAll.addEventListener("click", () => items.forEach(cancel));
destinationShow();
refresh();
