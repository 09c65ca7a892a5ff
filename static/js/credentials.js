// Scoped AWS credentials for this browser, from POST /api/credentials.
//
// The server keeps the Cognito tokens; the browser only ever holds these
// short-lived keys. They are reused until five minutes before they expire
// (the server caches them for the same window), then fetched again: a long
// upload asks credentialsGet before every request, so it moves on to new
// credentials ahead of expiry. When S3 still says ExpiredToken or
// InvalidToken (a clock off, credentials revoked), `force: true` skips the
// cache once (multipart.js retries that request once with them).
//
// The same module signs what the browser reads and writes with them: image
// URLs are presigned here, never by the server, so IAM decides who sees what.
import { AwsClient, AwsV4Signer } from "../vendor/aws4fetch/aws4fetch.esm.mjs";

const REUSE_MARGIN_MS = 5 * 60 * 1000;
const FETCH_TIMEOUT_MS = 20 * 1000; // the server asks Cognito with its own timeouts, well inside this

let cached = null;

function fresh(credentials) {
  return credentials && Date.parse(credentials.expiration) - Date.now() > REUSE_MARGIN_MS;
}

export class CredentialsError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export class ApiError extends CredentialsError {}

// url and csrfToken come from the page (data-* attributes), never hard-coded.
// Callers on one page share one request (the gallery and the identity menu).
let pending = null;

export async function credentialsGet({ url, csrfToken, force = false }) {
  if (force && cached && !pending) {
    cached = null;
  }
  if (fresh(cached)) {
    return cached;
  }
  if (!pending) {
    pending = credentialsFetch({ url, csrfToken }).finally(() => {
      pending = null;
    });
  }
  return pending;
}

// What multipart.js's uploadObject asks before each request: ({force}) -> credentials.
export function credentialsSource({ url, csrfToken }) {
  return ({ force = false } = {}) => credentialsGet({ url, csrfToken, force });
}

async function credentialsFetch({ url, csrfToken }) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  }).catch(() => {
    throw new CredentialsError("Could not reach Photoshare for credentials.", 0);
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new CredentialsError(body.error || "Could not get credentials.", response.status);
  }
  cached = body;
  return body;
}

// --- reading and writing S3 with these credentials ------------------------------------------

const RETRIES = 2; // aws4fetch retries on 5xx and network errors
const CREDENTIALS_LIFETIME_S = 3600; // enhanced-flow credentials last one hour, always
const READ_URL_EXPIRES_S = 3600;

// <endpoint>/<bucket>/<key>, each segment encoded once.
export function objectUrl(credentials, key) {
  const path = [credentials.bucket, ...key.split("/")].map(encodeURIComponent).join("/");
  return `${credentials.endpoint}/${path}`;
}

export function s3Client(credentials) {
  return new AwsClient({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    service: "s3",
    region: credentials.region,
    retries: RETRIES,
  });
}

// A presigned GET for one pinned version, served as the type the server
// sniffed. Signed at the credentials' issue time, not now: the same
// credentials then always give the same URL, so the browser's image cache
// keeps working across pages (keys and versions never change).
const signed = new Map();

export async function readUrl(credentials, { key, versionId, contentType }) {
  const memo = `${credentials.accessKeyId}\n${key}\n${versionId || ""}\n${contentType}`;
  if (!signed.has(memo)) {
    const url = new URL(objectUrl(credentials, key));
    if (versionId) {
      url.searchParams.set("versionId", versionId);
    }
    url.searchParams.set("response-content-type", contentType);
    url.searchParams.set("X-Amz-Expires", String(READ_URL_EXPIRES_S));
    const issued = new Date(Date.parse(credentials.expiration) - CREDENTIALS_LIFETIME_S * 1000);
    const signer = new AwsV4Signer({
      method: "GET",
      url: url.toString(),
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      service: "s3",
      region: credentials.region,
      signQuery: true,
      datetime: issued.toISOString().replace(/[:-]|\.\d{3}/g, ""),
    });
    signed.set(memo, (await signer.sign()).url.toString());
  }
  return signed.get(memo);
}

// JSON to and from the app's own API, with the page's CSRF token.
export async function apiCall(url, { method = "GET", csrfToken, body } = {}) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(answer.error || `The server refused (${response.status}).`, response.status);
  }
  return answer;
}
