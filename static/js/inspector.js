// The "How it works" page: the live facts only this browser can give, and
// six requests to S3 and one to DynamoDB, made with its own credentials, each explained.
//
// Everything is read the way the app reads it: the credentials from
// POST /api/credentials (credentials.js), the role from STS
// GetCallerIdentity signed with them, S3's answers as S3 sends them. The
// explanation of a decision comes from Django (GET /api/inspector/decisions/<id>),
// never from the sandbox directly: the browser has no business on its
// private routes, and Django hands back only this session's own decisions.
// Configuration comes from the page (json_script "inspector-config").
import { AwsClient } from "../vendor/aws4fetch/aws4fetch.esm.mjs";
import { credentialsGet, objectUrl, s3Client } from "./credentials.js";
import { DynamoError, dynamoCall } from "./dynamodb.js";

const config = JSON.parse(document.getElementById("inspector-config").textContent);
const REQUEST_TIMEOUT_MS = 15 * 1000;

function field(testid) {
  return document.querySelector(`[data-testid="${testid}"]`);
}

function element(tag, { className, text } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const child of children) node.append(child);
  return node;
}

function code(text) {
  return element("code", { text });
}

// --- where we are in the flow -----------------------------------------------------------

function stepAt(number) {
  for (const node of document.querySelectorAll("[data-step]")) {
    node.classList.toggle("current", node.dataset.step === String(number));
  }
}

// --- the live facts -----------------------------------------------------------------------

function xmlText(xml, tag) {
  const found = new DOMParser().parseFromString(xml, "application/xml").getElementsByTagName(tag)[0];
  return found ? found.textContent : "";
}

// STS GetCallerIdentity with the browser's own credentials: which role they are.
export async function callerIdentity(credentials) {
  const sts = new AwsClient({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    service: "sts",
    region: credentials.region,
    retries: 1,
  });
  const response = await sts.fetch(`${config.stsEndpoint}/`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    body: "Action=GetCallerIdentity&Version=2011-06-15",
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const xml = await response.text();
  if (!response.ok) {
    throw new Error(`STS refused: ${xmlText(xml, "Code") || response.status}`);
  }
  return xmlText(xml, "Arn");
}

function countdown(expiration) {
  const target = Date.parse(expiration);
  const shown = field("countdown");
  const tick = () => {
    const left = Math.round((target - Date.now()) / 1000);
    if (left <= 0) {
      shown.textContent = "(expired: reload the page for new ones)";
      return false;
    }
    const minutes = Math.floor(left / 60);
    shown.textContent = `(in ${minutes} min ${String(left % 60).padStart(2, "0")} s)`;
    return true;
  };
  if (tick()) {
    // Stops by itself at expiry: the credentials last one hour at most.
    const timer = setInterval(() => {
      if (!tick()) clearInterval(timer);
    }, 1000);
  }
}

async function facts() {
  stepAt(4);
  const credentials = await credentialsGet({ url: config.credentialsUrl, csrfToken: config.csrfToken });
  stepAt(5);
  field("identity-id").textContent = credentials.identityId;
  for (const slot of document.querySelectorAll("[data-sub-value]")) {
    slot.textContent = slot.classList.contains("resolved") ? ` = ${credentials.identityId}` : credentials.identityId;
  }
  field("expiration").textContent = new Date(credentials.expiration).toLocaleString();
  field("expiration").dataset.expiration = credentials.expiration;
  countdown(credentials.expiration);
  audit();
  try {
    const arn = await callerIdentity(credentials);
    stepAt(6);
    field("role-arn").textContent = arn;
    const role = arn.split("/")[1] || "";
    field("role-check").textContent =
      role === config.expectedRole ? "✓ the role the identity pool should choose" : `✗ expected ${config.expectedRole}`;
    field("role-check").dataset.match = String(role === config.expectedRole);
  } catch (error) {
    field("role-arn").textContent = "(unknown)";
    field("facts-error").textContent = `Could not ask STS from this browser: ${error.message}`;
  }
  return credentials;
}

async function audit() {
  try {
    const response = await fetch(config.issueUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const answer = await response.json();
    if (response.ok && answer.recorded) {
      field("role-audit").textContent = answer.summary;
    }
  } catch {
    // The reason stays as the page rendered it; the audit line is extra.
  }
}

// --- the six requests ------------------------------------------------------------------------

const TRIES = {
  "try-own-private": (c) => ({ url: listUrl(c, `private/${c.identityId}/`) }),
  "try-other-private": (c) => ({ url: objectUrl(c, `private/${config.otherIdentity}/photo.jpg`) }),
  "try-guest-write": (c) => ({
    url: objectUrl(c, "public/inspector-probe.txt"),
    method: "PUT",
    headers: { "Content-Type": "text/plain" },
    body: "written by the inspector",
  }),
  "try-list-root": (c) => ({ url: listUrl(c, null) }),
  "try-list-public": (c) => ({ url: listUrl(c, "public/") }),
  "try-read-public": (c) => {
    const url = new URL(objectUrl(c, config.published.key));
    if (config.published.versionId) url.searchParams.set("versionId", config.published.versionId);
    return { url: url.toString() };
  },
};

function listUrl(credentials, prefix) {
  const url = new URL(`${credentials.endpoint}/${encodeURIComponent(credentials.bucket)}`);
  url.searchParams.set("list-type", "2");
  url.searchParams.set("max-keys", "5");
  if (prefix !== null) url.searchParams.set("prefix", prefix);
  return url.toString();
}

// One request as S3 answers it: status, error code and message, request id.
export async function tryRun(credentials, name) {
  const { url, method = "GET", headers = {}, body } = TRIES[name](credentials);
  const response = await s3Client(credentials).fetch(url, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const requestId = response.headers.get("x-amz-request-id") || "";
  const text = response.ok && method === "GET" && name === "try-read-public" ? (await response.arrayBuffer(), "") : await response.text();
  if (response.ok) {
    return { ok: true, status: response.status, code: "OK", message: "", requestId };
  }
  return {
    ok: false,
    status: response.status,
    code: xmlText(text, "Code") || String(response.status),
    message: xmlText(text, "Message"),
    requestId,
  };
}

// The albums table (issue 17): a GetItem whose partition key is another
// identity's. The albums policy allows item reads only where
// dynamodb:LeadingKeys is the caller's own identity ID, so IAM refuses it
// before DynamoDB looks for the item; the answer's x-amzn-RequestId is what
// the explanation is looked up by, as for S3's x-amz-request-id.
const DYNAMODB_TRIES = {
  "try-other-album": (c) => ({
    operation: "GetItem",
    body: {
      TableName: c.albumsTable,
      Key: { identityId: { S: config.otherIdentity }, albumId: { S: "inspector-probe" } },
    },
  }),
};

export async function dynamoTryRun(credentials, name) {
  const { operation, body } = DYNAMODB_TRIES[name](credentials);
  try {
    const { requestId } = await dynamoCall(credentials, { endpoint: config.dynamodbEndpoint, operation, body });
    return { ok: true, status: 200, code: "OK", message: "", requestId };
  } catch (error) {
    if (!(error instanceof DynamoError)) throw error;
    return { ok: false, status: error.status, code: error.type, message: error.awsMessage, requestId: error.requestId };
  }
}

function resultText(answer) {
  if (answer.ok) return `OK (${answer.status})`;
  return `${answer.code} (${answer.status})${answer.message ? `: ${answer.message}` : ""}`;
}

async function explain(answer) {
  if (!config.explains) {
    return element("p", {
      className: "hint",
      text: "Explaining this needs the local sandbox; AWS's own message is above.",
    });
  }
  if (!answer.requestId) {
    return element("p", { className: "hint", text: "The answer carried no request id to explain." });
  }
  stepAt(8);
  const response = await fetch(config.decisionUrl.replace("REQUEST_ID", encodeURIComponent(answer.requestId)), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const decision = await response.json().catch(() => ({}));
  if (!response.ok) {
    return element("p", { className: "error", text: decision.error || "No explanation." });
  }
  return decisionView(decision);
}

// The decision as a person reads it: the reason, then for each permission
// the request needed, the statements that decided it.
function decisionView(decision) {
  const view = element("div", { className: `decision ${decision.allowed ? "allowed" : "denied"}` });
  view.append(element("p", { className: "why-reason", text: decision.reason || (decision.allowed ? "Allowed." : "Denied.") }));
  if (decision.exempt) {
    view.append(element("p", { className: "hint", text: `Not evaluated by IAM: ${decision.exempt}` }));
  }
  // The statements behind the reason, folded: one sentence is what most
  // visitors read; the policy detail is a click away for whoever studies it.
  const detail = element("details", { className: "decision-detail" });
  const weighed = (decision.needs || []).reduce((count, need) => count + (need.statements || []).length, 0);
  detail.append(element("summary", { text: `What IAM weighed (${weighed} statement${weighed === 1 ? "" : "s"})` }));
  for (const need of decision.needs || []) {
    const head = element("p", { className: "need-head" }, [
      code(need.action),
      " on ",
      code(need.resource),
      `: ${need.effect}.`,
      need.reason && need.reason !== decision.reason ? ` ${need.reason}` : "",
    ]);
    const list = element("ul", { className: "statements" });
    const relevant = (need.statements || []).filter((s) => s.applies || s.actionMatches);
    for (const statement of relevant.length ? relevant : need.statements || []) {
      list.append(statementView(statement));
    }
    detail.append(element("div", { className: "need" }, [head, list]));
  }
  const culprit = labCulprit(decision);
  if (culprit) view.append(culprit);
  if (weighed) view.append(detail);
  // AWS's message form (decision.message) is what S3 answered: already in the result above.
  return view;
}

// While a workshop lab is applied (config.lab), the statement it planted
// or broke is named where it decided this request.
function isCulprit(statement) {
  return Boolean(config.lab && config.lab.sid && statement.applies && statement.sid === config.lab.sid);
}

function labCulprit(decision) {
  const decided = (decision.needs || []).some((need) => (need.statements || []).some(isCulprit));
  if (!decided) return null;
  const note = element("p", { className: "lab-culprit-note" }, [
    element("strong", { text: `Lab ${config.lab.number}: ` }),
    `${config.lab.culprit}. That statement is why this request was allowed.`,
  ]);
  note.dataset.testid = "lab-culprit-note";
  return note;
}

function statementView(statement) {
  const name = `${statement.policy} › ${statement.sid || `statement ${statement.index}`}`;
  const culprit = isCulprit(statement);
  const item = element("li", { className: [statement.applies ? "applies" : "", culprit ? "culprit" : ""].join(" ").trim() }, [
    element("strong", { text: name }),
    culprit ? element("span", { className: "badge culprit-badge", text: "the lab's culprit" }) : "",
    ` (${statement.effect}${statement.applies ? ", applies" : ", does not apply"}): `,
    statement.explanation || "",
  ]);
  const details = element("ul", { className: "statement-details" });
  for (const resource of statement.resources || []) {
    if (resource.pattern !== resource.resolved) {
      details.append(element("li", {}, ["Resource ", code(resource.pattern), " → ", code(resource.resolved)]));
    }
  }
  for (const condition of statement.conditions || []) {
    const request = condition.requestValue === null || condition.requestValue === undefined ? "(absent)" : JSON.stringify(condition.requestValue);
    details.append(
      element("li", { className: condition.holds ? "holds" : "fails" }, [
        `${condition.operator} `,
        code(condition.key),
        ": request ",
        code(request),
        " against policy ",
        code(JSON.stringify(condition.policyValues)),
        condition.holds ? " ✓ holds" : " ✗ fails",
      ]),
    );
  }
  if (details.childElementCount) item.append(details);
  return item;
}

function tries(credentialsReady) {
  for (const row of document.querySelectorAll("[data-try]")) {
    const button = row.querySelector("button");
    const result = row.querySelector('[data-testid="try-result"]');
    const why = row.querySelector('[data-testid="try-why"]');
    button.addEventListener("click", async () => {
      button.disabled = true;
      result.textContent = "…";
      result.className = "try-result";
      why.replaceChildren();
      row.dataset.state = "running";
      try {
        const credentials = await credentialsReady();
        stepAt(7);
        const name = row.dataset.try;
        const answer = name in DYNAMODB_TRIES ? await dynamoTryRun(credentials, name) : await tryRun(credentials, name);
        result.textContent = resultText(answer);
        result.classList.add(answer.ok ? "ok" : "refused");
        why.replaceChildren(await explain(answer));
      } catch (error) {
        result.textContent = `Error: ${error.message}`;
        result.classList.add("refused");
      } finally {
        row.dataset.state = "done";
        button.disabled = false;
      }
    });
  }
}

const page = document.querySelector("main.inspector");
const ready = facts();
ready.then(
  () => {
    page.dataset.facts = "ready";
  },
  (error) => {
    field("facts-error").textContent = error.message;
    page.dataset.facts = "error";
  },
);
tries(() => ready);
