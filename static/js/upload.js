// Upload a photo straight from the browser to S3, then register it.
//
// 1. Scoped credentials from POST /api/credentials (credentials.js).
// 2. A SigV4-signed PUT to <endpoint>/<bucket>/<prefix><uuid>.<extension>,
//    signed here with aws4fetch. The prefix is one the page was given
//    (uploads/rules.py, through json_script): the IAM policy only lets these
//    credentials write under their own identity ID, and the server decides
//    what that prefix is. The browser adds only the uuid and the extension.
// 3. POST /api/photos so the server checks the upload and adds it to the catalog.
import { AwsClient } from "../vendor/aws4fetch/aws4fetch.esm.mjs";
import { credentialsGet } from "./credentials.js";

const RETRIES = 2; // aws4fetch retries on 5xx and network errors

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
    const key = `${prefix}${crypto.randomUUID()}.${rules.types[type].extension}`;
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
