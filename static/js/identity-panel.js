// Shows which identity this browser's AWS credentials belong to: the
// identity ID (the ${cognito-identity.amazonaws.com:sub} that scopes S3
// access), whether the role is the signed-in or the guest one, and when the
// keys expire. The secret key is never put on the page.
import { credentialsGet } from "./credentials.js";

const panel = document.querySelector("[data-credentials-url]");

function show(field, value) {
  const element = panel.querySelector(`[data-field="${field}"]`);
  if (element) {
    element.textContent = value;
  }
}

async function main() {
  try {
    const credentials = await credentialsGet({
      url: panel.dataset.credentialsUrl,
      csrfToken: panel.dataset.csrfToken,
    });
    show("identity", credentials.identityId);
    show("role", credentials.authenticated ? "signed-in (authenticated role)" : "guest (unauthenticated role)");
    show("expiration", new Date(credentials.expiration).toLocaleString());
    show("bucket", credentials.bucket);
    panel.dataset.state = "ready";
  } catch (error) {
    show("error", error.message);
    panel.dataset.state = "error";
  }
}

if (panel) {
  main();
}
