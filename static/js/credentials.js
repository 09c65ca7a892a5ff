// Scoped AWS credentials for this browser, from POST /api/credentials.
//
// The server keeps the Cognito tokens; the browser only ever holds these
// short-lived keys. They are reused until five minutes before they expire
// (the server caches them for the same window), then fetched again.

const REUSE_MARGIN_MS = 5 * 60 * 1000;

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

// url and csrfToken come from the page (data-* attributes), never hard-coded.
export async function credentialsGet({ url, csrfToken }) {
  if (fresh(cached)) {
    return cached;
  }
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new CredentialsError(body.error || "Could not get credentials.", response.status);
  }
  cached = body;
  return body;
}
