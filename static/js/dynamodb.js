// A small DynamoDB client for the browser, over the vendored aws4fetch.
//
// DynamoDB speaks its JSON protocol: every operation is a POST to the
// endpoint's root, named in X-Amz-Target (DynamoDB_20120810.<Operation>),
// with the body in application/x-amz-json-1.0 and items in DynamoDB's typed
// JSON ({"S": "..."}, {"N": "1"}, {"L": [...]}). The request is signed (SigV4,
// service "dynamodb") with this browser's own identity-pool credentials, so
// IAM decides, item by item, what it may touch: the albums policy lets a
// caller reach only the partition named by their identity ID
// (dynamodb:LeadingKeys).
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
import { AwsClient } from "../vendor/aws4fetch/aws4fetch.esm.mjs";

const TARGET_PREFIX = "DynamoDB_20120810";
const CONTENT_TYPE = "application/x-amz-json-1.0";
const RETRIES = 2; // aws4fetch retries 5xx and throttling (429) answers
const TIMEOUT_MS = 15 * 1000; // for all attempts together

// DynamoDB's own error, as it answered: `type` is the exception's name
// (ConditionalCheckFailedException, AccessDeniedException, ...), `message`
// AWS's text (for the log and the inspector, not for a person), `requestId`
// what the inspector hands to Django for the sandbox's decision.
export class DynamoError extends Error {
  constructor(type, message, status, requestId) {
    super(`${type}: ${message}`);
    this.type = type;
    this.awsMessage = message;
    this.status = status;
    this.requestId = requestId;
  }
}

// `__type` is "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
// (the namespace varies); the name is what follows the last "#".
export function errorType(body, response) {
  const raw = String((body && body.__type) || response.headers.get("x-amzn-ErrorType") || "");
  const name = raw.split("#").pop().split(":")[0];
  return name || `HTTP${response.status}`;
}

// One operation: {answer, requestId}, or a DynamoError.
export async function dynamoCall(credentials, { endpoint, operation, body }) {
  const client = new AwsClient({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    service: "dynamodb",
    region: credentials.region,
    retries: RETRIES,
  });
  let response;
  try {
    response = await client.fetch(`${endpoint}/`, {
      method: "POST",
      headers: { "Content-Type": CONTENT_TYPE, "X-Amz-Target": `${TARGET_PREFIX}.${operation}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new DynamoError("NetworkError", String(error && error.message), 0, "");
  }
  const requestId = response.headers.get("x-amzn-RequestId") || "";
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new DynamoError(errorType(answer, response), String(answer.message || answer.Message || ""), response.status, requestId);
  }
  return { answer, requestId };
}

// --- DynamoDB's typed JSON, for the few types albums use ------------------------------------

export const S = (value) => ({ S: String(value) });
export const N = (value) => ({ N: String(value) });
export const L = (values) => ({ L: values });
export const strings = (values) => L(values.map(S));

// A typed attribute as plain JavaScript (S, N, BOOL, NULL, L, M, SS); anything else is null.
export function plain(attribute) {
  if (!attribute || typeof attribute !== "object") return null;
  if ("S" in attribute) return String(attribute.S);
  if ("N" in attribute) return Number(attribute.N);
  if ("BOOL" in attribute) return Boolean(attribute.BOOL);
  if ("NULL" in attribute) return null;
  if ("SS" in attribute && Array.isArray(attribute.SS)) return attribute.SS.map(String);
  if ("L" in attribute && Array.isArray(attribute.L)) return attribute.L.map(plain);
  if ("M" in attribute && attribute.M && typeof attribute.M === "object") return itemPlain(attribute.M);
  return null;
}

export function itemPlain(item) {
  const result = {};
  for (const [name, attribute] of Object.entries(item || {})) {
    result[name] = plain(attribute);
  }
  return result;
}
