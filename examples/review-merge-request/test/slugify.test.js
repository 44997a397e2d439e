import { test } from "node:test";
import assert from "node:assert/strict";
import { slugify } from "../src/slugify.js";

test("words are joined by single dashes", () => {
  assert.equal(slugify("Hello,  World!"), "hello-world");
});

test("punctuation alone gives an empty slug", () => {
  assert.equal(slugify("?!"), "");
});
