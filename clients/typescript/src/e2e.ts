// Drives the Protocol API through a client typed from openapi.yaml: creates, lists (walking
// pages), retrieves, updates and deletes contacts and conversations, and reads the typed error
// envelope of a 404. Run against a live server:
//
//   PROTOCOL_URL=http://127.0.0.1:8080 PROTOCOL_KEY=sk_... node dist/e2e.js
//
// It exits non-zero at the first unexpected answer. A change of the spec's shape shows up
// earlier, when tsc compiles this file against the regenerated src/schema.d.ts.
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Contact = components["schemas"]["Contact"];
type Conversation = components["schemas"]["Conversation"];
type ErrorEnvelope = components["schemas"]["Error"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const baseUrl = env("PROTOCOL_URL");
const client = createClient<paths>({
  baseUrl,
  headers: { Authorization: `Bearer ${env("PROTOCOL_KEY")}` },
});

function step(name: string): void {
  console.log(`ok ${name}`);
}

// expectError checks a failed call's typed envelope.
function expectError(
  error: ErrorEnvelope | undefined,
  response: Response,
  status: number,
  code: ErrorEnvelope["error"]["code"],
  param?: string,
): void {
  assert.equal(response.status, status, `status of ${response.url}`);
  assert.ok(error, `typed error body for ${response.url}`);
  assert.equal(error.error.type, status >= 500 ? "api_error" : "invalid_request");
  assert.equal(error.error.code, code);
  assert.equal(error.error.param, param);
  assert.ok(error.error.message.length > 0);
}

// Health, without the key: it is the one operation that needs none.
{
  const { data, response } = await createClient<paths>({ baseUrl }).GET("/healthz");
  assert.equal(response.status, 200);
  assert.equal(data?.status, "ok");
  step("getHealth");
}

// An unknown key is refused with the typed 401.
{
  const anon = createClient<paths>({ baseUrl, headers: { Authorization: "Bearer sk_not_a_key" } });
  const { error, response } = await anon.GET("/v1/contacts");
  expectError(error, response, 401, "unauthorized");
  step("listContacts without a valid key: 401");
}

// Create Frank from JSON, as the documentation does, and four more contacts from a form.
const created: Contact[] = [];
{
  const { data, response } = await client.POST("/v1/contacts", {
    body: {
      username: "FrankMcCallister",
      phone_number: "1-800-759-3000",
      avatar_url: "https://assets.protocol.chat/avatars/frank.jpg",
    },
  });
  assert.equal(response.status, 201);
  assert.ok(data);
  assert.equal(data.username, "FrankMcCallister");
  assert.equal(data.display_name, null);
  assert.equal(data.last_active_at, null);
  assert.match(data.conversation_id ?? "", /^[A-Za-z0-9]{16}$/);
  created.push(data);

  for (let i = 0; i < 4; i++) {
    const form = { username: `kevin${i}`, phone_number: "555-0100", display_name: "" };
    const r = await client.POST("/v1/contacts", {
      body: form,
      bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    assert.equal(r.response.status, 201);
    assert.ok(r.data);
    assert.equal(r.data.username, `kevin${i}`);
    assert.equal(r.data.display_name, null, "an empty form value means none");
    created.push(r.data);
  }

  const dup = await client.POST("/v1/contacts", {
    body: { username: "FrankMcCallister", phone_number: "1-800-759-3000" },
  });
  expectError(dup.error, dup.response, 409, "conflict", "username");
  step("createContact (JSON, form, and a 409 for a taken username)");
}
const frank = created[0]!;

// List, newest first, two a page: walk forward with starting_after, back with ending_before.
{
  const newestFirst = created.map((c) => c.id).reverse();
  const forward: string[] = [];
  let startingAfter: string | undefined;
  let pages = 0;
  for (;;) {
    const { data, response } = await client.GET("/v1/contacts", {
      params: { query: { limit: 2, starting_after: startingAfter } },
    });
    assert.equal(response.status, 200);
    assert.ok(data);
    assert.ok(data.data.length > 0 && data.data.length <= 2);
    pages++;
    forward.push(...data.data.map((c) => c.id));
    if (!data.has_more) {
      break;
    }
    startingAfter = data.data.at(-1)?.id;
  }
  assert.deepEqual(forward, newestFirst);
  assert.equal(pages, 3);

  const backward: string[] = [];
  let endingBefore = newestFirst.at(-1);
  for (;;) {
    const { data } = await client.GET("/v1/contacts", {
      params: { query: { limit: 2, ending_before: endingBefore } },
    });
    assert.ok(data);
    backward.unshift(...data.data.map((c) => c.id));
    if (!data.has_more) {
      break;
    }
    endingBefore = data.data[0]?.id;
  }
  assert.deepEqual(backward, newestFirst.slice(0, -1));

  const bad = await client.GET("/v1/contacts", { params: { query: { limit: 101 } } });
  expectError(bad.error, bad.response, 400, "invalid_request", "limit");
  step(`listContacts (${pages} pages forward, then back; 400 for limit=101)`);
}

// Retrieve, and the typed 404 for an id that is not ours.
{
  const { data, response } = await client.GET("/v1/contacts/{id}", { params: { path: { id: frank.id } } });
  assert.equal(response.status, 200);
  assert.deepEqual(data, frank);

  const missing = await client.GET("/v1/contacts/{id}", { params: { path: { id: "WAz8eIbvDR60rouK" } } });
  expectError(missing.error, missing.response, 404, "not_found", "id");
  assert.equal(missing.data, undefined);
  step("getContact (200, and the 404 envelope)");
}

// Update: set the display name, then clear it with null.
{
  const set = await client.PUT("/v1/contacts/{id}", {
    params: { path: { id: frank.id } },
    body: { display_name: "UncleFrank" },
  });
  assert.equal(set.response.status, 200);
  assert.equal(set.data?.display_name, "UncleFrank");
  assert.equal(set.data?.username, frank.username);

  const cleared = await client.PUT("/v1/contacts/{id}", {
    params: { path: { id: frank.id } },
    body: { display_name: null },
  });
  assert.equal(cleared.response.status, 200);
  assert.equal(cleared.data?.display_name, null);

  const missing = await client.PUT("/v1/contacts/{id}", {
    params: { path: { id: "WAz8eIbvDR60rouK" } },
    body: { display_name: "UncleFrank" },
  });
  expectError(missing.error, missing.response, 404, "not_found", "id");
  step("updateContact (set, clear with null, 404)");
}

// Conversations: Frank's was created with him; add a group one, mute, list, delete.
const conversations: Conversation[] = [];
{
  const frankConv = frank.conversation_id!;
  const got = await client.GET("/v1/conversations/{id}", { params: { path: { id: frankConv } } });
  assert.equal(got.response.status, 200);
  assert.ok(got.data);
  assert.equal(got.data.contact_id, frank.id);
  assert.equal(got.data.is_muted, false);
  conversations.push(got.data);

  const group = await client.POST("/v1/conversations", { body: { group_id: "hSIhXBhNe8X1d8Et" } });
  assert.equal(group.response.status, 201);
  assert.ok(group.data);
  assert.equal(group.data.group_id, "hSIhXBhNe8X1d8Et");
  assert.equal(group.data.contact_id, null);
  conversations.push(group.data);

  const dup = await client.POST("/v1/conversations", { body: { contact_id: frank.id } });
  expectError(dup.error, dup.response, 409, "conflict", "contact_id");
  step("createConversation (group; 409 for a contact that has one) and getConversation");

  const muted = await client.PUT("/v1/conversations/{id}", {
    params: { path: { id: frankConv } },
    body: { is_muted: true },
  });
  assert.equal(muted.response.status, 200);
  assert.equal(muted.data?.is_muted, true);
  const archived = await client.PUT("/v1/conversations/{id}", {
    params: { path: { id: group.data.id } },
    body: { archived_at: 705103200, is_pinned: true },
  });
  assert.equal(archived.data?.archived_at, 705103200);
  assert.equal(archived.data?.is_pinned, true);
  step("updateConversation");

  const all: string[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const { data } = await client.GET("/v1/conversations", {
      params: { query: { limit: 2, starting_after: startingAfter } },
    });
    assert.ok(data);
    all.push(...data.data.map((c) => c.id));
    if (!data.has_more) {
      break;
    }
    startingAfter = data.data.at(-1)?.id;
  }
  assert.equal(all.length, created.length + 1);
  assert.equal(all[0], group.data.id);
  const onlyMuted = await client.GET("/v1/conversations", { params: { query: { muted: true } } });
  assert.deepEqual(onlyMuted.data?.data.map((c) => c.id), [frankConv]);
  const inGroup = await client.GET("/v1/conversations", {
    params: { query: { group_id: "hSIhXBhNe8X1d8Et", archived: true, pinned: true } },
  });
  assert.deepEqual(inGroup.data?.data.map((c) => c.id), [group.data.id]);
  step(`listConversations (${all.length} in pages of 2; muted, group_id, archived, pinned filters)`);

  const deleted = await client.DELETE("/v1/conversations/{id}", { params: { path: { id: frankConv } } });
  assert.equal(deleted.response.status, 200);
  assert.deepEqual(deleted.data, { id: frankConv, deleted: true });
  const gone = await client.GET("/v1/conversations/{id}", { params: { path: { id: frankConv } } });
  expectError(gone.error, gone.response, 404, "not_found", "id");
  const contact = await client.GET("/v1/contacts/{id}", { params: { path: { id: frank.id } } });
  assert.equal(contact.data?.conversation_id, null);
  step("deleteConversation (the contact stays, without a conversation)");
}

// Delete the contact; a second delete is a 404.
{
  const { data, response } = await client.DELETE("/v1/contacts/{id}", { params: { path: { id: frank.id } } });
  assert.equal(response.status, 200);
  assert.deepEqual(data, { id: frank.id, deleted: true });
  const again = await client.DELETE("/v1/contacts/{id}", { params: { path: { id: frank.id } } });
  expectError(again.error, again.response, 404, "not_found", "id");
  step("deleteContact");
}

console.log(`all operations passed against ${baseUrl}`);
