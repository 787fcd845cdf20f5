import test from "ava";
import fc from "fast-check";
import { decodeCursor, encodeCursor } from "../runtime/deployments/listCursor";
import { buildUpdate } from "../runtime/deployments/updateExpression";
import { isValidationError } from "../runtime/errors";

const key = fc.record({
  id: fc.uuid(),
  userId: fc.string({ minLength: 1, maxLength: 40 }),
  createdAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
});

test("property: a cursor decodes to the key it was made from, for the same user only", (t) => {
  fc.assert(
    fc.property(key, fc.string({ minLength: 1 }), (k, other) => {
      const cursor = encodeCursor({ ...k, status: "PENDING", repository: "acme/shop" });
      t.regex(cursor, /^[A-Za-z0-9_-]+$/);
      t.deepEqual(decodeCursor(cursor, k.userId), k, "only the key attributes travel");
      if (other !== k.userId) t.throws(() => decodeCursor(cursor, other), { message: /cursor/ });
    }),
  );
});

test("property: no changed character of a cursor sneaks through as a different key", (t) => {
  fc.assert(
    fc.property(key, fc.nat(), fc.constantFrom(..."ABCxyz019-_=+/!"), (k, at, character) => {
      const cursor = encodeCursor(k);
      const position = at % cursor.length;
      const changed = cursor.slice(0, position) + character + cursor.slice(position + 1);
      if (changed === cursor) return;
      try {
        // Some changes still decode to a well-formed key for this user: then it must be a different, exact key.
        const decoded = decodeCursor(changed, k.userId);
        t.deepEqual(Object.keys(decoded).sort(), ["createdAt", "id", "userId"]);
        t.is(decoded.userId, k.userId);
      } catch (error) {
        t.true(isValidationError(error));
        t.is((error as { field?: string }).field, "cursor");
      }
    }),
  );
});

test("buildUpdate uses placeholders for every name and value, skips undefined, and ADDs attempts", (t) => {
  const update = buildUpdate(
    { status: "PROCESSING", updatedAt: "now" },
    { commitSha: "abc", framework: undefined, statusReason: { code: "C", message: "M" } },
    { incrementAttempts: true },
  );
  t.is(update.UpdateExpression, "SET #f0 = :f0, #f1 = :f1, #f2 = :f2, #f3 = :f3 ADD #attempts :one");
  t.deepEqual(update.ExpressionAttributeNames, {
    "#f0": "commitSha",
    "#f1": "statusReason",
    "#f2": "status",
    "#f3": "updatedAt",
    "#attempts": "attempts",
  });
  t.deepEqual(update.ExpressionAttributeValues, {
    ":f0": "abc",
    ":f1": { code: "C", message: "M" },
    ":f2": "PROCESSING",
    ":f3": "now",
    ":one": 1,
  });
  t.is(buildUpdate({ updatedAt: "now" }, {}).UpdateExpression, "SET #f0 = :f0");
});

test("buildUpdate appends to a list in the same SET, creating it where missing", (t) => {
  const entry = { status: "BUILDING", at: "now" };
  const update = buildUpdate({ status: "BUILDING" }, {}, { append: { history: [entry] } });
  t.is(update.UpdateExpression, "SET #f0 = :f0, #f1 = list_append(if_not_exists(#f1, :e1), :f1)");
  t.deepEqual(update.ExpressionAttributeNames, { "#f0": "status", "#f1": "history" });
  t.deepEqual(update.ExpressionAttributeValues, { ":f0": "BUILDING", ":f1": [entry], ":e1": [] });
  t.throws(() => buildUpdate({}, { history: [] }), { message: /^history cannot be set through fields/ });
});
