// Upload a photo straight from the browser to S3, then register it.
//
// 1. Scoped credentials from POST /api/credentials (credentials.js).
// 2. A SigV4-signed PUT to <endpoint>/<bucket>/<prefix><uuid>.<extension>,
//    signed here with aws4fetch. The prefix is one the page was given
//    (uploads/rules.py, through json_script): the IAM policy only lets these
//    credentials write under their own identity ID, and the server decides
//    what that prefix is. The browser adds only the uuid and the extension.
//    A JPEG thumbnail, drawn here on a canvas, goes to <prefix>thumbs/<the same uuid>.jpg.
//    Both carry Cache-Control: immutable, since a key is never written twice.
// 3. POST /api/photos so the server checks the upload and adds it to the catalog.
import { credentialsGet, objectUrl, s3Client } from "./credentials.js";

const CACHE_CONTROL = "private, max-age=31536000, immutable"; // one year: keys never change
const THUMBNAIL_PIXELS = 480; // the longer side
const THUMBNAIL_QUALITY = 0.82;

const form = document.getElementById("upload-form");
const status = form.querySelector('[data-role="status"]');
// The prefixes, types, signatures, size limit and messages, as the server checks them.
const rules = JSON.parse(document.getElementById(form.dataset.rules).textContent);

function say(message) {
  status.textContent = message;
}

// The type the file's first bytes say, by the signatures the server sniffs.
// S3 keeps the Content-Type sent with the PUT, and the server refuses an image
// stored as any type but its own, so a PNG named photo.jpg must still go as image/png.
async function sniff(file) {
  const head = new Uint8Array(await file.slice(0, rules.sniffBytes).arrayBuffer());
  const matches = (signature) => signature.every(([at, bytes]) => bytes.every((byte, i) => head[at + i] === byte));
  const found = Object.entries(rules.types).find(([, type]) => type.signatures.some(matches));
  return found ? found[0] : null;
}

// A JPEG at most THUMBNAIL_PIXELS on its longer side, or null when this
// browser cannot decode the file (then grids show the original, scaled).
async function thumbnail(file) {
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, THUMBNAIL_PIXELS / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // JPEG has no transparency
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", THUMBNAIL_QUALITY));
  } catch {
    return null;
  }
}

async function put(aws, credentials, key, body, type) {
  const response = await aws.fetch(objectUrl(credentials, key), {
    method: "PUT",
    body,
    headers: { "Content-Type": type, "Cache-Control": CACHE_CONTROL },
  });
  if (!response.ok) {
    throw new Error(`S3 refused the upload (${response.status}).`);
  }
}

async function upload(event) {
  event.preventDefault();
  const file = form.elements.file.files[0];
  if (!file) {
    say("Choose a photo first.");
    return;
  }
  // Bytes that are no image go as the browser typed them: the server refuses them.
  const type = (await sniff(file)) || file.type;
  if (!(type in rules.types)) {
    say(rules.messages.notAnImage);
    return;
  }
  if (file.size > rules.maxBytes) {
    say(rules.messages.tooLarge);
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    say("Uploading…");
    const credentials = await credentialsGet({ url: form.dataset.credentialsUrl, csrfToken: form.dataset.csrfToken });
    const prefix = rules.prefixes[form.elements.public.checked ? "public" : "private"];
    if (!prefix || credentials.identityId !== rules.identityId) {
      throw new Error(rules.messages.noStorage); // the identity changed since the page was made
    }
    const name = crypto.randomUUID();
    const key = `${prefix}${name}.${rules.types[type].extension}`;
    const aws = s3Client(credentials);
    await put(aws, credentials, key, file, type);
    const body = { key, title: form.elements.title.value };
    const small = await thumbnail(file);
    if (small) {
      body.thumbKey = `${prefix}thumbs/${name}.jpg`; // named after its photo, as the server checks
      await put(aws, credentials, body.thumbKey, small, "image/jpeg");
    }
    say("Checking…");
    const registered = await fetch(form.dataset.registerUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrfToken },
      body: JSON.stringify(body),
    });
    const answer = await registered.json().catch(() => ({}));
    if (!registered.ok) {
      throw new Error(answer.error || "The photo could not be added.");
    }
    window.location.assign(form.dataset.galleryUrl);
  } catch (error) {
    say(error.message);
    button.disabled = false;
  }
}

form.addEventListener("submit", upload);
