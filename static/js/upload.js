// Upload a photo straight from the browser to S3, then register it.
//
// 1. Scoped credentials from POST /api/credentials (credentials.js).
// 2. A SigV4-signed PUT to <endpoint>/<bucket>/<private|public>/<identity id>/<uuid>.<ext>,
//    signed here with aws4fetch: the IAM policy only lets these credentials
//    write under their own identity ID, so that is the only place we can put it.
// 3. POST /api/photos so the server checks the upload and adds it to the catalog.
import { AwsClient } from "../vendor/aws4fetch/aws4fetch.esm.mjs";
import { credentialsGet } from "./credentials.js";

const EXTENSIONS = { "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp" };
const RETRIES = 2; // aws4fetch retries on 5xx and network errors

const form = document.getElementById("upload-form");
const status = form.querySelector('[data-role="status"]');

function say(message) {
  status.textContent = message;
}

// The type the file's first bytes say, as the server sniffs them. S3 keeps the
// Content-Type sent with the PUT, and the server refuses an image stored as
// any type but its own, so a PNG named photo.jpg must still go as image/png.
async function sniff(file) {
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const starts = (bytes, at = 0) => bytes.every((byte, i) => head[at + i] === byte);
  const ascii = (text) => [...text].map((c) => c.charCodeAt(0));
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts(ascii("GIF87a")) || starts(ascii("GIF89a"))) return "image/gif";
  if (starts(ascii("RIFF")) && starts(ascii("WEBP"), 8)) return "image/webp";
  return null;
}

function objectUrl(credentials, key) {
  const path = [credentials.bucket, ...key.split("/")].map(encodeURIComponent).join("/");
  return `${credentials.endpoint}/${path}`;
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
  if (!(type in EXTENSIONS)) {
    say("That file is not a JPEG, PNG, GIF or WebP image.");
    return;
  }
  if (file.size > Number(form.dataset.maxBytes)) {
    say("That photo is too large.");
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    say("Uploading…");
    const credentials = await credentialsGet({ url: form.dataset.credentialsUrl, csrfToken: form.dataset.csrfToken });
    const visibility = form.elements.public.checked ? "public" : "private";
    const key = `${visibility}/${credentials.identityId}/${crypto.randomUUID()}.${EXTENSIONS[type]}`;
    const aws = new AwsClient({
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      service: "s3",
      region: credentials.region,
      retries: RETRIES,
    });
    const put = await aws.fetch(objectUrl(credentials, key), {
      method: "PUT",
      body: file,
      headers: { "Content-Type": type },
    });
    if (!put.ok) {
      throw new Error(`S3 refused the upload (${put.status}).`);
    }
    say("Checking…");
    const registered = await fetch(form.dataset.registerUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.dataset.csrfToken },
      body: JSON.stringify({ key, title: form.elements.title.value }),
    });
    const answer = await registered.json().catch(() => ({}));
    if (!registered.ok) {
      throw new Error(answer.error || "The photo could not be added.");
    }
    window.location.assign(answer.gallery);
  } catch (error) {
    say(error.message);
    button.disabled = false;
  }
}

form.addEventListener("submit", upload);
