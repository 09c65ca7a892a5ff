// Albums, read and written by this browser straight in DynamoDB (dynamodb.js),
// with no server round trip: the server never sees an album.
//
// The data model: one item per album in the table `<name>-albums`, keyed by
//   identityId (partition, S): the owner's identity ID, `us-east-1:…`: the
//     value IAM's dynamodb:LeadingKeys is compared with, so a caller reaches
//     only their own albums;
//   albumId (sort, S): a random UUID made here;
// and holding title (S), photoIds (L of S: photo IDs from /api/photos, in the
// order added), version (N) and created / updated (S, ISO 8601).
//
// Optimistic concurrency: every write names the version it read
// (ConditionExpression "#version = :expected") and sets the next one, so a
// second tab's edit on an older copy is refused with
// ConditionalCheckFailedException, never lost silently: it becomes
// AlbumConflict, whose message says to reload.
import { credentialsGet } from "./credentials.js";
import { DynamoError, N, S, dynamoCall, itemPlain, strings } from "./dynamodb.js";

export const CONFLICT_MESSAGE = "This album was changed elsewhere. Reload to see the latest.";
export const TITLE_MAX = 100; // characters
export const PHOTOS_MAX = 500; // photo IDs per album; an item stays far below DynamoDB's 400 KB
const QUERY_PAGES_MAX = 20; // Query pages of up to 1 MB each; far more albums than a person keeps
const PHOTO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Expired or revoked credentials: fetched again once, then the call is retried.
const STALE_CREDENTIALS = new Set(["ExpiredTokenException", "UnrecognizedClientException", "InvalidSignatureException"]);

// A failure with a message fit for a person; `cause` keeps DynamoDB's own error.
export class AlbumError extends Error {
  constructor(message, cause) {
    super(message);
    this.cause = cause;
  }
}

export class AlbumConflict extends AlbumError {
  constructor(cause) {
    super(CONFLICT_MESSAGE, cause);
  }
}

const MESSAGES = {
  AccessDeniedException: "Access was refused: these credentials may not reach that album.",
  ValidationException: "That album could not be saved as it is.",
  ResourceNotFoundException: "The albums table is missing. Ask whoever runs this site to run provision.",
  ProvisionedThroughputExceededException: "The albums store is busy. Try again in a moment.",
  ThrottlingException: "The albums store is busy. Try again in a moment.",
};
const UNAVAILABLE = "Could not reach your albums right now. Try again in a moment.";

function humane(error) {
  if (error instanceof AlbumError) return error;
  if (error instanceof DynamoError) {
    if (error.type === "ConditionalCheckFailedException") return new AlbumConflict(error);
    // The detail goes to the console, the fixed message to the page.
    console.warn(`albums: DynamoDB ${error.type} (${error.status}) ${error.awsMessage} [${error.requestId}]`);
    return new AlbumError(MESSAGES[error.type] || UNAVAILABLE, error);
  }
  return new AlbumError(error && error.message ? error.message : UNAVAILABLE, error); // credentials.js's messages are for people
}

// An item as the page uses it. Whatever the owner stored there (they may
// write their own items with their own keys, any way they like), only
// well-formed values come through.
export function albumFrom(item) {
  const raw = itemPlain(item);
  const ids = Array.isArray(raw.photoIds) ? raw.photoIds.filter((id) => typeof id === "string" && PHOTO_ID.test(id)) : [];
  return {
    albumId: String(raw.albumId || ""),
    title: String(raw.title || "").slice(0, TITLE_MAX) || "Untitled album",
    photoIds: [...new Set(ids)].slice(0, PHOTOS_MAX),
    version: Number.isSafeInteger(raw.version) ? raw.version : 0,
    created: String(raw.created || ""),
    updated: String(raw.updated || ""),
  };
}

export function titleClean(title) {
  const cleaned = String(title || "").replace(/\s+/g, " ").trim();
  if (!cleaned) throw new AlbumError("Give the album a name.");
  if (cleaned.length > TITLE_MAX) throw new AlbumError(`An album's name has at most ${TITLE_MAX} characters.`);
  return cleaned;
}

// `config` is the page's albums-config (json_script): the credentials route,
// the CSRF token and the DynamoDB endpoint. The table comes with the credentials.
export function albumStore(config) {
  async function credentials(force = false) {
    return credentialsGet({ url: config.credentialsUrl, csrfToken: config.csrfToken, force });
  }

  // One operation for the caller's own partition; `build` makes its body
  // from the credentials (table name, identity ID).
  async function call(operation, build) {
    try {
      let creds = await credentials();
      try {
        return (await dynamoCall(creds, { endpoint: config.dynamodbEndpoint, operation, body: build(creds) })).answer;
      } catch (error) {
        if (!(error instanceof DynamoError) || !STALE_CREDENTIALS.has(error.type)) throw error;
        creds = await credentials(true);
        return (await dynamoCall(creds, { endpoint: config.dynamodbEndpoint, operation, body: build(creds) })).answer;
      }
    } catch (error) {
      throw humane(error);
    }
  }

  const key = (creds, albumId) => ({ identityId: S(creds.identityId), albumId: S(albumId) });
  const now = () => new Date().toISOString();

  // A conditional write that returns the album as stored afterwards.
  // DynamoDB refuses names and values an expression does not use, so each
  // write names exactly its own.
  async function update(album, { set, names, values }) {
    const answer = await call("UpdateItem", (creds) => ({
      TableName: creds.albumsTable,
      Key: key(creds, album.albumId),
      UpdateExpression: `SET ${set}, #version = :next, #updated = :now`,
      ConditionExpression: "#version = :expected",
      ExpressionAttributeNames: { ...names, "#version": "version", "#updated": "updated" },
      ExpressionAttributeValues: { ...values, ":expected": N(album.version), ":next": N(album.version + 1), ":now": S(now()) },
      ReturnValues: "ALL_NEW",
    }));
    return albumFrom(answer.Attributes);
  }

  return {
    // Every album of the caller, newest first: a Query on their own partition
    // (never a Scan, which the policy does not allow and LeadingKeys could not limit).
    async list() {
      const albums = [];
      let start;
      for (let page = 0; page < QUERY_PAGES_MAX; page += 1) {
        const answer = await call("Query", (creds) => ({
          TableName: creds.albumsTable,
          KeyConditionExpression: "#identityId = :me",
          ExpressionAttributeNames: { "#identityId": "identityId" },
          ExpressionAttributeValues: { ":me": S(creds.identityId) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }));
        albums.push(...(answer.Items || []).map(albumFrom));
        start = answer.LastEvaluatedKey;
        if (!start) break;
      }
      return albums.sort((a, b) => b.created.localeCompare(a.created) || a.title.localeCompare(b.title));
    },

    // One album, or null when there is none (deleted, or never this caller's).
    async get(albumId) {
      const answer = await call("GetItem", (creds) => ({
        TableName: creds.albumsTable,
        Key: key(creds, albumId),
        ConsistentRead: true,
      }));
      return answer.Item ? albumFrom(answer.Item) : null;
    },

    async create(title) {
      const cleaned = titleClean(title);
      const albumId = crypto.randomUUID();
      const moment = now();
      const item = (creds) => ({
        ...key(creds, albumId),
        title: S(cleaned),
        photoIds: strings([]),
        version: N(1),
        created: S(moment),
        updated: S(moment),
      });
      await call("PutItem", (creds) => ({
        TableName: creds.albumsTable,
        Item: item(creds),
        ConditionExpression: "attribute_not_exists(albumId)",
      }));
      return { albumId, title: cleaned, photoIds: [], version: 1, created: moment, updated: moment };
    },

    async rename(album, title) {
      return update(album, { set: "#title = :title", names: { "#title": "title" }, values: { ":title": S(titleClean(title)) } });
    },

    // The album's whole list of photo IDs, replaced: safe because the write
    // holds only if nobody changed the album since `album` was read.
    async photosSet(album, photoIds) {
      const ids = [...new Set(photoIds)].filter((id) => PHOTO_ID.test(id));
      if (ids.length > PHOTOS_MAX) throw new AlbumError(`An album holds at most ${PHOTOS_MAX} photos.`);
      return update(album, { set: "#photoIds = :photoIds", names: { "#photoIds": "photoIds" }, values: { ":photoIds": strings(ids) } });
    },

    async remove(album) {
      await call("DeleteItem", (creds) => ({
        TableName: creds.albumsTable,
        Key: key(creds, album.albumId),
        ConditionExpression: "#version = :expected",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":expected": N(album.version) },
      }));
    },
  };
}

// A URL the page gave with its placeholder ID, for this ID.
export function urlFor(template, config, id) {
  return template.replace(config.placeholder, encodeURIComponent(id));
}
