// Send one object straight from the browser to S3: one PUT for a small file,
// a multipart upload for a large one, signed here with the user's own
// scoped credentials.
//
// Written on aws4fetch (static/vendor/aws4fetch) rather than on the AWS SDK's
// @aws-sdk/lib-storage: aws4fetch is one small, readable file that only
// signs, and the five S3 calls a multipart upload needs are a page of code
// each reader can follow against the S3 API reference. The SDK would be a
// generated bundle of a few hundred kilobytes that nobody here reads, to be
// rebuilt with a bundler on every update. static/vendor/README.md says more.
//
// Multipart, as S3 defines it
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html):
//   CreateMultipartUpload (POST ?uploads) -> an UploadId
//   UploadPart (PUT ?partNumber=N&uploadId=...) for each part, `concurrency`
//     in flight, each answered with its ETag (the bucket's CORS rule exposes it)
//   CompleteMultipartUpload (POST ?uploadId=...) with every part's number and ETag.
// Every part but the last must be at least 5 MiB.
//
// Credentials: `credentials()` is asked before every request, so credentials
// that expire during a long upload are replaced by credentials.js (it renews
// them ahead of expiry). A request S3 refuses with ExpiredToken or
// InvalidToken is signed again with `credentials({ force: true })` and sent
// once more. S3 checks a signature when a request starts, so a part whose
// credentials expire while its bytes are on the way still completes.
//
// Cancel (`signal`): in-flight requests are aborted and, for a multipart
// upload, AbortMultipartUpload is called, so no parts are left behind.
// Failure: parts already in flight are allowed to finish, then an UploadError
// carries `uploadState`; passing it back as `uploadState` resumes: ListParts
// says which parts S3 already holds, and only the others are sent.
//
// Request bodies go through XMLHttpRequest, not fetch: fetch reports no
// upload progress, while XHR's upload events give bytes sent as they go.
import { AwsV4Signer } from "../vendor/aws4fetch/aws4fetch.esm.mjs";

const MiB = 1024 * 1024;
export const MIN_PART_BYTES = 5 * MiB; // S3's minimum for every part but the last
const MAX_PARTS = 10000; // S3's maximum number of parts
const DEFAULTS = { partBytes: 8 * MiB, threshold: 8 * MiB, concurrency: 4, retries: 3 };
const BACKOFF_MS = 250; // first retry after about this long, doubling each time
// A request with no answer by then counts as a dropped connection and is retried.
// Generous: an 8 MiB part at 1 Mbit/s takes about 70 seconds.
const REQUEST_TIMEOUT_MS = 5 * 60 * 1000;
const TOKEN_ERRORS = new Set(["ExpiredToken", "InvalidToken"]);
// Worth another try: S3's own "try again" answers and a dropped connection (status 0).
const RETRYABLE_CODES = new Set(["InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"]);

export class UploadError extends Error {
  constructor(message, { status = 0, code = "", retryable = false, cancelled = false, uploadState = null } = {}) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.code = code;
    this.retryable = retryable;
    this.cancelled = cancelled;
    this.uploadState = uploadState;
  }
}

function cancelledError() {
  return new UploadError("The upload was cancelled.", { cancelled: true });
}

// <endpoint>/<bucket>/<key>, each segment encoded once, with an optional query.
function s3Url(credentials, key, query = {}) {
  const path = [credentials.bucket, ...key.split("/")].map(encodeURIComponent).join("/");
  const url = new URL(`${credentials.endpoint}/${path}`);
  for (const [name, value] of Object.entries(query)) {
    url.searchParams.set(name, value);
  }
  return url.toString();
}

async function signed(credentials, { method, url, headers = {} }) {
  const signer = new AwsV4Signer({
    method,
    url,
    headers,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    service: "s3",
    region: credentials.region,
  });
  return signer.sign();
}

function xmlText(xml, tag) {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml || "");
  return match ? match[1].replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&") : "";
}

// One signed request through XMLHttpRequest. Resolves {status, text, etag}
// for any answer (errors included); rejects only when cancelled.
// status 0 is a request that never got an answer (network drop, CORS).
function send(request, { body, signal, onProgress }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(request.method, request.url.toString());
    xhr.timeout = REQUEST_TIMEOUT_MS;
    for (const [name, value] of request.headers) {
      xhr.setRequestHeader(name, value);
    }
    const stop = () => xhr.abort();
    signal.addEventListener("abort", stop, { once: true });
    const done = (answer) => {
      signal.removeEventListener("abort", stop);
      answer === null ? reject(cancelledError()) : resolve(answer);
    };
    if (onProgress && body) {
      xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    }
    xhr.addEventListener("load", () =>
      done({ status: xhr.status, text: xhr.responseText, etag: xhr.getResponseHeader("ETag") || "" }),
    );
    xhr.addEventListener("error", () => done({ status: 0, text: "", etag: "" }));
    xhr.addEventListener("timeout", () => done({ status: 0, text: "", etag: "" }));
    xhr.addEventListener("abort", () => done(signal.aborted ? null : { status: 0, text: "", etag: "" }));
    if (signal.aborted) {
      done(null);
      return;
    }
    xhr.send(body === undefined ? null : body);
  });
}

// A request with fresh credentials each time, the token retry and the backoff.
// Resolves the successful answer; throws an UploadError otherwise.
async function s3Request({ credentials, method, key, query, headers, body, signal, onProgress, retries }) {
  let tokenRetried = false;
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) {
      throw cancelledError();
    }
    const current = await credentials({ force: tokenRetried && attempt === 0 });
    const request = await signed(current, { method, url: s3Url(current, key, query), headers });
    onProgress?.(0);
    const answer = await send(request, { body, signal, onProgress });
    // CompleteMultipartUpload can fail with a 200 whose body is an <Error>.
    const failed = answer.status < 200 || answer.status >= 300 || /<Error>/.test(answer.text);
    if (!failed) {
      return answer;
    }
    const code = xmlText(answer.text, "Code");
    if (TOKEN_ERRORS.has(code) && !tokenRetried) {
      tokenRetried = true;
      attempt = -1; // a fresh start with fresh credentials; backoff counts anew
      continue;
    }
    const retryable = answer.status === 0 || answer.status >= 500 || answer.status === 429 || RETRYABLE_CODES.has(code);
    if (!retryable || attempt >= retries) {
      const why = answer.status === 0 ? "the connection failed" : `${answer.status}${code ? ` ${code}` : ""}`;
      throw new UploadError(`S3 refused the upload (${why}).`, { status: answer.status, code, retryable });
    }
    await backoff(attempt, signal);
  }
}

function backoff(attempt, signal) {
  const wait = BACKOFF_MS * 2 ** attempt * (0.5 + Math.random() / 2);
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, wait);
    signal.addEventListener("abort", stop, { once: true });
  });
}

function partSize(size, wanted) {
  // Large files get larger parts, so that they fit in S3's 10,000.
  return Math.max(MIN_PART_BYTES, wanted, Math.ceil(size / MAX_PARTS));
}

// Parts S3 already holds for this upload: partNumber -> {etag, size}.
async function listParts({ credentials, key, uploadId, signal, retries }) {
  const held = new Map();
  let marker = "";
  for (;;) {
    const query = { uploadId, ...(marker ? { "part-number-marker": marker } : {}) };
    const answer = await s3Request({ credentials, method: "GET", key, query, signal, retries });
    for (const [, part] of answer.text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
      held.set(Number(xmlText(part, "PartNumber")), { etag: xmlText(part, "ETag"), size: Number(xmlText(part, "Size")) });
    }
    if (xmlText(answer.text, "IsTruncated") !== "true") {
      return held;
    }
    marker = xmlText(answer.text, "NextPartNumberMarker");
  }
}

// uploadObject({file | blob, key, contentType, cacheControl, credentials, onProgress,
//               signal, partBytes, threshold, concurrency, retries, uploadState})
//   -> Promise<{key, etag}>
// `credentials` is a function: ({force}) -> Promise of credentials.js's credentials.
// onProgress({sent, total}) is called as bytes go (sent can fall back when a part is re-sent).
export async function uploadObject(options) {
  const settings = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const body = settings.file || settings.blob;
  const { key, credentials, signal = new AbortController().signal } = settings;
  const report = (sent) => settings.onProgress?.({ sent: Math.min(sent, body.size), total: body.size });
  const headers = { "Content-Type": settings.contentType || body.type || "application/octet-stream" };
  if (settings.cacheControl) {
    headers["Cache-Control"] = settings.cacheControl;
  }
  const previous = settings.uploadState;
  if (!previous && body.size <= settings.threshold) {
    const answer = await s3Request({
      credentials, method: "PUT", key, headers, body, signal, retries: settings.retries, onProgress: report,
    });
    report(body.size);
    return { key, etag: answer.etag };
  }
  return multipartUpload({ settings, body, headers, previous, report, signal });
}

async function multipartUpload({ settings, body, headers, previous, report, signal }) {
  const { key, credentials, retries } = settings;
  const state = previous || { key, size: body.size, partBytes: partSize(body.size, settings.partBytes), uploadId: "", parts: {} };
  if (state.key !== key || state.size !== body.size) {
    throw new UploadError("This is not the upload that failed.", { uploadState: state });
  }
  const count = Math.max(1, Math.ceil(body.size / state.partBytes));
  const sizeOf = (n) => Math.min(state.partBytes, body.size - (n - 1) * state.partBytes);
  const failWith = (error) => {
    error.uploadState = state;
    return error;
  };
  try {
    if (state.uploadId) {
      // Only the parts S3 says it holds, at the size they must have, count as done.
      state.parts = {};
      try {
        const held = await listParts({ credentials, key, uploadId: state.uploadId, signal, retries });
        for (const [n, part] of held) {
          if (n <= count && part.size === sizeOf(n)) {
            state.parts[n] = part.etag;
          }
        }
      } catch (error) {
        if (error.code !== "NoSuchUpload") throw error;
        state.uploadId = ""; // aborted meanwhile (or removed by the lifecycle rule): start again
      }
    }
    if (!state.uploadId) {
      const created = await s3Request({ credentials, method: "POST", key, query: { uploads: "" }, headers, signal, retries });
      state.uploadId = xmlText(created.text, "UploadId");
    }
  } catch (error) {
    if (error.cancelled) {
      await abortUpload({ credentials, key, uploadId: state.uploadId });
    }
    throw failWith(error);
  }

  const sent = new Map(); // partNumber -> bytes of it sent so far
  for (const n of Object.keys(state.parts)) {
    sent.set(Number(n), sizeOf(Number(n)));
  }
  const total = () => [...sent.values()].reduce((a, b) => a + b, 0);
  report(total());
  const waiting = [];
  for (let n = 1; n <= count; n++) {
    if (!state.parts[n]) waiting.push(n);
  }
  let failure = null;
  async function worker() {
    while (waiting.length && !failure && !signal.aborted) {
      const n = waiting.shift();
      const start = (n - 1) * state.partBytes;
      try {
        const answer = await s3Request({
          credentials, method: "PUT", key, query: { partNumber: String(n), uploadId: state.uploadId },
          body: body.slice(start, start + sizeOf(n)), signal, retries,
          onProgress: (loaded) => (sent.set(n, loaded), report(total())),
        });
        state.parts[n] = answer.etag;
        sent.set(n, sizeOf(n));
        report(total());
      } catch (error) {
        sent.delete(n);
        failure = failure || error; // the others finish their part, then stop
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(settings.concurrency, waiting.length) }, worker));
  if (signal.aborted || failure?.cancelled) {
    await abortUpload({ credentials, key, uploadId: state.uploadId });
    throw failWith(cancelledError());
  }
  if (failure) {
    throw failWith(failure);
  }
  const list = Object.entries(state.parts)
    .map(([n, etag]) => [Number(n), etag])
    .sort((a, b) => a[0] - b[0])
    .map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</ETag></Part>`);
  try {
    const done = await s3Request({
      credentials, method: "POST", key, query: { uploadId: state.uploadId },
      headers: { "Content-Type": "application/xml" },
      body: `<CompleteMultipartUpload>${list.join("")}</CompleteMultipartUpload>`, signal, retries,
    });
    return { key, etag: xmlText(done.text, "ETag") };
  } catch (error) {
    if (error.cancelled) {
      await abortUpload({ credentials, key, uploadId: state.uploadId });
    }
    throw failWith(error);
  }
}

// AbortMultipartUpload, never itself cancellable: it is what cancelling does.
// If it fails too, the bucket's lifecycle rule removes the parts after a day.
async function abortUpload({ credentials, key, uploadId }) {
  if (!uploadId) return;
  try {
    await s3Request({ credentials, method: "DELETE", key, query: { uploadId }, signal: new AbortController().signal, retries: 2 });
  } catch {
    // reported by reconcile; nothing the page could do better
  }
}
