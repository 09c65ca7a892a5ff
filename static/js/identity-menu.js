// The header's "Your identity" menu: which identity this browser's AWS
// credentials belong to (the identity ID, the ${cognito-identity.amazonaws.com:sub}
// that scopes S3 access), whether the role is the signed-in or the guest one,
// and when the keys expire. The secret key is never put on the page.
import { credentialsGet } from "./credentials.js";

const menu = document.querySelector("[data-identity-menu]");

function show(field, value) {
  const element = menu.querySelector(`[data-field="${field}"]`);
  if (element) {
    element.textContent = value;
  }
}

async function main() {
  try {
    const credentials = await credentialsGet({ url: menu.dataset.credentialsUrl, csrfToken: menu.dataset.csrfToken });
    show("identity", credentials.identityId);
    show("role", credentials.authenticated ? "signed-in (authenticated role)" : "guest (unauthenticated role)");
    show("expiration", new Date(credentials.expiration).toLocaleString());
    show("bucket", credentials.bucket);
    menu.dataset.state = "ready";
  } catch (error) {
    show("error", error.message);
    menu.dataset.state = "error";
  }
}

// Fetched when the menu is first opened: most pages need no credentials.
if (menu) {
  menu.addEventListener("toggle", () => {
    if (menu.open && menu.dataset.state === "idle") {
      menu.dataset.state = "loading";
      main();
    }
  });
}
